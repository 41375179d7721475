"""The node's ledger account: its did:web Ed25519 key (a DID and its account are the same key),
which signs the transactions the node sends (payments, anchors, proposals, votes), one at a
time so that sequences follow each other."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from typing import Any

from connector.errors import ConnectorError, Reason
from connector.identity.base64url import decode as b64u_decode
from connector.identity.keys import KeyStore
from connector.ledger.proven import ProvenLedger, unavailable
from ledger.app import address, client
from ledger.app.msgs import Msg
from ledger.app.params import Params
from ledger.crypto import PrivateKey
from ledger.errors import LedgerError

COMMIT_POLL = 0.02  # seconds between looks for a submitted transaction (a paid use waits on it)
SEQUENCE_RETRIES = 4
_EXPECTED = re.compile(r"sequence mismatch: expected (\d+)")


def account_key(keys: KeyStore) -> PrivateKey:
    return PrivateKey(b64u_decode(keys.key("Ed25519").private_jwk()["d"]))


class RefusedTx(ConnectorError):
    """The ledger refused a transaction: its sentence, as the application gave it."""

    def __init__(self, message: str) -> None:
        super().__init__(Reason.CONFLICT, message)


class LedgerAccount:
    def __init__(self, ledger: ProvenLedger, key: PrivateKey) -> None:
        self.ledger = ledger
        self.key = key
        self._lock = asyncio.Lock()

    @property
    def address(self) -> str:
        return address.to_text(self.key.address)

    async def submit(self, messages: Sequence[Msg], timeout: float = 30.0) -> dict[str, Any]:
        """Sign and send MESSAGES, then wait until a block holds them: the committed
        transaction (height, events); RefusedTx with the ledger's sentence otherwise.

        Another signer of this account (the serving node and its operator's CLI) may take a
        sequence first: the refusal names the one expected, and the transaction is signed
        again with it."""
        async with self._lock:
            sequence = None
            for _ in range(SEQUENCE_RETRIES):
                code, log_, committed = await self._send(messages, sequence, timeout)
                # by its sentence: the mempool reports CheckTx refusals under its own code
                expected = _EXPECTED.search(log_) if code else None
                if expected is None:
                    break
                sequence = int(expected.group(1))
        if code != 0:
            raise RefusedTx(log_ or f"the ledger refused the transaction (code {code})")
        assert committed is not None
        return committed

    async def _send(self, messages: Sequence[Msg], sequence: int | None, timeout: float
                    ) -> tuple[int, str, dict[str, Any] | None]:
        """(code, log, the committed transaction when it was committed)."""
        try:
            if sequence is None:
                account = await self.ledger.unproven("/auth/account", self.address.encode())
                sequence = int(account["sequence"])
            params = Params.from_obj(await self.ledger.unproven("/params"))
            tx = client.sign(self.key, self.ledger.chain_id, sequence, messages,
                             client.min_fee(messages, params))
            check = await self.ledger.client.broadcast_tx(tx)
        except LedgerError as exc:
            raise unavailable(self.ledger.rpc_url, exc) from None
        if not check["ok"]:  # refused by CheckTx (abci_code), or by the mempool itself
            return int(check.get("abci_code") or -1), check["log"] or f"the mempool said {check['code']}", None
        committed = await self._committed(bytes.fromhex(check["hash"]), timeout)
        return int(committed["code"]), committed["log"] or "", committed

    async def _committed(self, tx_hash: bytes, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                found = await self.ledger.client.tx(tx_hash)
            except LedgerError as exc:
                raise unavailable(self.ledger.rpc_url, exc) from None
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise ConnectorError(Reason.UNAVAILABLE, f"transaction {tx_hash.hex()} was "
                                     f"accepted but not committed within {timeout:g} s")
            await asyncio.sleep(COMMIT_POLL)
