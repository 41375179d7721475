"""Reads of the ledger through any member's RPC, believed only when proven: each answer is
computed by the application's own query code over store values proven against the app hash of
a header signed by more than 2/3 of the voting power (ledger/light.py), the validator set
trusted from the genesis and followed as it changes. Answers are cached by height."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.errors import ConnectorError, Reason
from ledger.app.errors import NOT_FOUND
from ledger.consensus.views import genesis_from_json
from ledger.errors import LedgerError
from ledger.light import LightClient, VerificationError
from ledger.rpc import RpcClient
from ledger.types import Genesis

log = logging.getLogger("communs.ledger")
CACHED_ANSWERS = 4096


@dataclass(frozen=True)
class Answer:
    height: int  # the state the answer is about (after block `height`)
    doc: Any  # the answer's JSON, None when the application says "not found"
    proof: str = ""  # how it was verified, in words


def load_genesis(path: Path) -> Genesis:
    try:
        return genesis_from_json(json.loads(path.read_text()))
    except OSError as exc:
        raise ConnectorError(Reason.BAD_CONFIG, f"cannot read the ledger genesis {path}: "
                             f"{exc.strerror}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ConnectorError(Reason.BAD_CONFIG, f"{path} is not a ledger genesis ({exc})") from None


def unavailable(rpc_url: str, exc: Exception) -> ConnectorError:
    return ConnectorError(Reason.UNAVAILABLE, f"the ledger at {rpc_url} does not answer: {exc}")


class ProvenLedger:
    def __init__(self, rpc_url: str, genesis: Genesis, timeout: float = 10.0) -> None:
        self.rpc_url = rpc_url
        self.genesis = genesis
        self.client = RpcClient(rpc_url, timeout=timeout)
        self.light = LightClient(self.client, genesis)
        self.height = 0  # the latest state that can be proven: block height+1 exists
        self._cache: OrderedDict[tuple[str, bytes, int], Answer] = OrderedDict()
        self._lock = asyncio.Lock()

    @property
    def chain_id(self) -> str:
        return self.genesis.chain_id

    async def close(self) -> None:
        await self.client.close()

    async def refresh(self) -> int:
        """Learn the latest height; the latest provable state is the one before it."""
        try:
            status = await self.client.call("status")
            chain, latest = status["node_info"]["network"], int(status["sync_info"]["latest_block_height"])
        except LedgerError as exc:
            raise unavailable(self.rpc_url, exc) from None
        except (KeyError, TypeError, ValueError):
            raise ConnectorError(Reason.UNAVAILABLE, f"the ledger at {self.rpc_url} answered a "
                                                     f"malformed status") from None
        if chain != self.chain_id:
            raise ConnectorError(Reason.BAD_CONFIG, f"the ledger at {self.rpc_url} runs chain "
                                 f"{chain!r}, not {self.chain_id!r} of the genesis")
        self.height = max(self.height, latest - 1)
        return self.height

    async def reach(self, height: int, timeout: float = 15.0) -> int:
        """Wait until the state after block HEIGHT can be proven (the next block exists)."""
        deadline = time.monotonic() + timeout
        while await self.refresh() < height:
            if time.monotonic() > deadline:
                raise ConnectorError(Reason.UNAVAILABLE, f"the ledger at {self.rpc_url} did not "
                                     f"reach block {height + 1} within {timeout:g} s")
            await asyncio.sleep(0.02)
        return self.height

    async def read(self, path: str, data: bytes = b"", height: int | None = None) -> Answer:
        """The proven answer at HEIGHT (default: the latest provable state)."""
        if height is None:
            height = self.height or await self.refresh()
        if height < 1:
            raise ConnectorError(Reason.UNAVAILABLE, "the ledger has no block to prove yet")
        key = (path, data, height)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        try:
            async with self._lock:  # one walk to a new header at a time (the light client keeps it)
                await self.light.app_hash(height)
            proven = await self.light.answer(path, data, height)
        except VerificationError as exc:
            log.warning("ledger answer refused: %s", exc)
            raise ConnectorError(Reason.UNAVAILABLE, f"the ledger at {self.rpc_url} sent an "
                                 f"answer that does not verify: {exc}") from None
        except LedgerError as exc:
            raise unavailable(self.rpc_url, exc) from None
        said = proven.verified.sentence()
        if proven.code == NOT_FOUND:
            answer = Answer(height, None, said)
        elif proven.code != 0:
            raise ConnectorError(Reason.BAD_INPUT, f"the ledger refused {path}: {proven.log}")
        else:
            answer = Answer(height, json.loads(proven.value), said)
        self._cache[key] = answer
        if len(self._cache) > CACHED_ANSWERS:
            self._cache.popitem(last=False)
        return answer

    async def unproven(self, path: str, data: bytes = b"", height: int | None = None) -> Any:
        """A list (lists cannot be proven), or a view for display: never for a decision."""
        try:
            r = await self.client.query(path, data, height)
        except LedgerError as exc:
            raise unavailable(self.rpc_url, exc) from None
        if r["code"] != 0:
            raise ConnectorError(Reason.BAD_INPUT, f"the ledger refused {path}: {r['log'][:300]}")
        return json.loads(r["value_text"] or "null")

    async def peers(self) -> int:
        """How many peers the ledger node this link reads through has, for display."""
        try:
            return int((await self.client.call("net_info"))["n_peers"])
        except LedgerError as exc:
            raise unavailable(self.rpc_url, exc) from None

    async def block(self, height: int) -> dict[str, Any] | None:
        """A block as the RPC shows it, for display (None: not there yet)."""
        try:
            return await self.client.block(height)
        except LedgerError as exc:
            raise unavailable(self.rpc_url, exc) from None
