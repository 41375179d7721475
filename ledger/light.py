"""A light client for query answers: it believes a node's answer only when the answer follows
from store values proven against an app hash that a trusted validator set signed.

For an answer at version H it checks, in order:
  1. the signed header of block H+1 (whose app_hash is the state after block H) hashes to
     the block hash its commit names, at height H+1 on the trusted chain;
  2. the validator set of H+1 hashes to the header's validators_hash and signed the commit
     with more than 2/3 of its power (`Commit.verify`);
  3. that set is trusted: it is the genesis set of the node folder, or trusted validators
     holding more than 1/3 of the trusted power signed the commit (CometBFT's
     VerifyNonAdjacent with its default trust level);
  4. each store value the answer is computed from is proven under that app hash, and the
     application's own query code, run over those values alone, gives the node's answer.

Header hashes, validator set hashes and vote sign bytes are computed as the node's engine
computes them (ours, or CometBFT's protobuf ones: ledger/lightblocks.py), the engine named by
the node's /status; a node that names the wrong one only fails to verify."""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from . import crypto
from .app import query as app_query
from .app.store import PROOF_TYPE, verify_proof
from .errors import InvalidError, LedgerError, Reason
from .lightblocks import (
    SignedBlock,
    engine_of,
    header_from_json,
    signed_block,
    validators_from_json,
    validators_hash,
)
from .rpc import RpcClient
from .types import Genesis, ValidatorSet
from .types.commit import FLAG_ABSENT, FLAG_COMMIT

__all__ = ["LightClient", "Proven", "VerificationError", "Verified", "header_from_json",
           "trusted_power", "validators_from_json", "verify_commit"]

NEXT_BLOCK_WAIT = 15.0  # seconds to wait for block H+1 when H is the latest
HEADERS_KEPT = 1024  # verified headers remembered


class VerificationError(LedgerError):
    """An answer, a proof, a header or a validator set does not verify."""

    def __init__(self, message: str) -> None:
        super().__init__(message, Reason.INVALID)


@dataclass(frozen=True)
class Verified:
    height: int  # the version of the state the answer is about
    app_hash: bytes  # from the header of height + 1
    signed_power: int
    total_power: int
    value: bytes  # the node's answer, as the application's query code computes it

    def sentence(self) -> str:
        return (f"verified against the app hash of block {self.height + 1} signed by "
                f"{self.signed_power} of {self.total_power} voting power")


def verify_commit(block: SignedBlock, vals: ValidatorSet) -> None:
    """Raise InvalidError unless `vals` signed the block with more than 2/3 of its power: one
    slot per validator in set order, every signature present verifying over its sign bytes
    (as CometBFT's VerifyCommit)."""
    if block.commit_height != block.height or block.commit_block_hash != block.hash:
        raise InvalidError("commit is for another block")
    if len(block.sigs) != len(vals.validators):
        raise InvalidError("commit size differs from the validator set")
    power = 0
    for s, v in zip(block.sigs, vals.validators, strict=True):
        if s.flag == FLAG_ABSENT:
            continue
        if s.validator_address != v.address:
            raise InvalidError("commit signature from the wrong validator")
        if not crypto.verify(v.pub_key, s.sign_bytes, s.signature):
            raise InvalidError("bad signature in commit")
        if s.flag == FLAG_COMMIT:
            power += v.voting_power
    if 3 * power <= 2 * vals.total_power:
        raise InvalidError("commit lacks +2/3 of the voting power")


def trusted_power(block: SignedBlock, trusted: ValidatorSet) -> int:
    """The trusted power whose precommits for the block are in its commit and verify."""
    power = 0
    for s in block.sigs:
        v = trusted.get(s.validator_address)
        if s.flag == FLAG_COMMIT and v is not None and crypto.verify(v.pub_key, s.sign_bytes,
                                                                     s.signature):
            power += v.voting_power
    return power


@dataclass(frozen=True)
class Proven:
    code: int  # the application's answer code (0, or NOT_FOUND and the like)
    value: bytes
    log: str
    verified: Verified


class LightClient:
    """Verifies answers of the node behind `client` against the trust rooted in `genesis`."""

    def __init__(self, client: RpcClient, genesis: Genesis) -> None:
        self.client = client
        self.chain_id = genesis.chain_id
        self.trusted = ValidatorSet.new(genesis.validators)
        self.trusted_height = 0  # the block whose validators are `trusted` (0: genesis)
        self._headers: dict[int, tuple[bytes, int, int]] = {}
        self.engine: str | None = None  # "communs" or "cometbft", from the node's /status

    async def _engine(self) -> str:
        if self.engine is None:
            try:
                self.engine = engine_of(await self.client.call("status"))
            except (KeyError, TypeError) as e:
                raise VerificationError(f"the node sent a malformed status: {e}") from None
        return self.engine

    async def app_hash(self, height: int) -> tuple[bytes, int, int]:
        """(app hash after block `height`, signed power, total power), verified."""
        if height not in self._headers:
            self._headers[height] = await self._verify_header(height + 1)
            while len(self._headers) > HEADERS_KEPT:  # a long-lived client follows the chain
                del self._headers[min(self._headers)]
        return self._headers[height]

    async def _signed_header(self, h: int) -> dict[str, Any]:
        deadline = time.monotonic() + NEXT_BLOCK_WAIT
        while True:
            try:
                return dict((await self.client.call("commit", height=str(h)))["signed_header"])
            except LedgerError as e:
                if e.reason != Reason.NOT_FOUND or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.2)  # block h is the next one: it comes within a round

    async def _verify_header(self, h: int) -> tuple[bytes, int, int]:
        engine = await self._engine()
        try:
            signed = await self._signed_header(h)
            block = signed_block(engine, signed, self.chain_id)
            vals = validators_from_json(await self.client.validators(h))
        except (KeyError, TypeError, ValueError, binascii.Error, InvalidError) as e:
            raise VerificationError(f"the node sent a malformed header, commit or validator "
                                    f"set for block {h}: {e}") from None
        if block.chain_id != self.chain_id or block.height != h:
            raise VerificationError(f"the header is not block {h} of chain {self.chain_id}")
        if block.hash != block.commit_block_hash:
            raise VerificationError(f"the header of block {h} does not hash to the block hash "
                                    f"its commit signs")
        if validators_hash(engine, vals) != block.validators_hash:
            raise VerificationError(f"the validator set sent for block {h} is not the one its "
                                    f"header names")
        try:
            verify_commit(block, vals)
        except InvalidError as e:
            raise VerificationError(f"the commit of block {h} does not verify: {e}") from None
        if vals.hash() != self.trusted.hash():  # a set's identity: either hash would do
            linked = trusted_power(block, self.trusted)
            if 3 * linked <= self.trusted.total_power:
                raise VerificationError(
                    f"the validator set of block {h} is not linked to the trusted one: "
                    f"validators holding {linked} of the trusted {self.trusted.total_power} "
                    f"voting power signed it, more than a third is needed")
            if h > self.trusted_height:  # follow the set as it changes, block after block
                self.trusted, self.trusted_height = vals, h
        signed_power = sum(v.voting_power for s, v in zip(block.sigs, vals.validators,
                                                          strict=True) if s.flag == FLAG_COMMIT)
        return block.app_hash, signed_power, vals.total_power

    async def proven_value(self, key: bytes, height: int, root: bytes) -> bytes | None:
        """The store value of `key` at `height` (None: absent), proven under `root`."""
        r = await self.client.query("/store", key, height, prove=True)
        if r["code"] != 0:
            raise VerificationError(f"the node refused the proof of a store key: {r['log']}")
        if r["height"] != height:
            raise VerificationError(f"the node proved height {r['height']}, not {height}")
        ops = (r["proof"] or {}).get("ops") or []
        if len(ops) != 1 or ops[0].get("type") != PROOF_TYPE:
            raise VerificationError(f"the node sent no {PROOF_TYPE} proof")
        try:
            proof = base64.b64decode(ops[0].get("data") or "", validate=True)
            proven_key = base64.b64decode(ops[0].get("key") or "", validate=True)
            value = base64.b64decode(r["value"] or "", validate=True)
        except (binascii.Error, ValueError):
            raise VerificationError("the node sent a malformed proof") from None
        if proven_key != key:
            raise VerificationError(f"the proof is for another key ({proven_key.hex()[:64]}, "
                                    f"not {key.hex()[:64]})")
        if value and verify_proof(root, key, value, proof):
            return value
        if not value and verify_proof(root, key, None, proof):
            return None
        raise VerificationError(f"the value of store key {key.hex()[:64]} does not match its "
                                f"proof under the app hash of block {height + 1}")

    async def answer(self, path: str, data: bytes, height: int) -> Proven:
        """The application's answer to `path`, `data` at `height`, computed here from store
        values proven against the signed headers: the node's own answer is never needed, so a
        node that lies, or says "not found" of what exists, changes nothing."""
        root, signed, total = await self.app_hash(height)
        proven: dict[bytes, bytes | None] = {}
        while True:  # each run over the proven values may name keys not yet fetched
            reader = _Recorder(proven)
            expected = app_query.answer(reader, height, path, data, False, PROOF_TYPE)
            if not reader.missing:
                break
            for key in sorted(reader.missing):
                proven[key] = await self.proven_value(key, height, root)
        return Proven(expected.code, expected.value, expected.log,
                      Verified(height, root, signed, total, expected.value))

    async def verify(self, path: str, data: bytes, height: int, answer: bytes) -> Verified:
        """Check that `answer` (the node's value for `path`, `data` at `height`) is what the
        application's query code computes from store values proven at `height`."""
        proven = await self.answer(path, data, height)
        if proven.code != 0:
            raise VerificationError(f"the proven state does not answer this query: "
                                    f"{proven.log}")
        if proven.value != answer:
            raise VerificationError(f"the node's answer differs from the proven state at "
                                    f"height {height}")
        return proven.verified


class _Recorder:
    """A store over the proven values that records the keys it was asked for but lacks."""

    def __init__(self, values: Mapping[bytes, bytes | None]) -> None:
        self.values = values
        self.missing: set[bytes] = set()

    @property
    def version(self) -> int | None:
        return None

    @property
    def root(self) -> bytes:
        raise NotImplementedError

    def root_at(self, version: int) -> bytes:
        raise NotImplementedError

    def get(self, key: bytes, version: int | None = None) -> bytes | None:
        if key not in self.values:
            self.missing.add(key)
            return None
        return self.values[key]

    def items(self, prefix: bytes, version: int | None = None) -> Iterator[tuple[bytes, bytes]]:
        raise VerificationError("a query that lists keys cannot be proven")

    def prove(self, key: bytes, version: int | None = None) -> tuple[bytes | None, bytes]:
        raise NotImplementedError

    def commit(self, writes: Mapping[bytes, bytes | None], version: int) -> bytes:
        raise NotImplementedError
