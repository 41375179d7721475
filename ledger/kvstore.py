"""A deterministic key-value application, as CometBFT's kvstore, exercising the engine.

Transactions:
  `key=value`                 set a key (UTF-8, key non-empty)
  `val:<hex pub key>!<power>` validator update (power 0 removes), effective two heights later;
                               refused unless built with validator_txs=True (the simulator's
                               tests of validator-set changes): an unsigned transaction must
                               never change who validates
  `stx:` + encoding of {pub, nonce, kv, sig}  a signed `key=value` (the benchmark's load);
                               each (pub, nonce) is accepted once
The app hash chains the previous hash with the block's sorted writes, so it is cheap to compute
and any divergence in execution shows up in the next header.
"""

from __future__ import annotations

import hashlib
from typing import Any

from . import crypto
from .abci import (
    MISBEHAVIOR_DUPLICATE_VOTE,
    ExecTxResult,
    RequestFinalizeBlock,
    RequestInitChain,
    RequestPrepareProposal,
    RequestProcessProposal,
    ResponseCheckTx,
    ResponseFinalizeBlock,
    ResponseInfo,
    ResponseInitChain,
    ResponseQuery,
    ValidatorUpdate,
)
from .encoding import decode, encode
from .errors import LedgerError

MAX_TX = 16 * 1024
CODE_BAD = 1
CODE_REPLAY = 2
_PARSED: dict[bytes, tuple[str, Any]] = {}
_PARSED_MAX = 200_000


class KVStore:
    def __init__(self, validator_txs: bool = False) -> None:
        self.validator_txs = validator_txs
        self.state: dict[str, str] = {}
        self.nonces: set[tuple[bytes, int]] = set()
        self.misbehavior: dict[bytes, list[int]] = {}
        self.height = 0
        self.app_hash = b""
        self._pending: tuple[int, bytes, dict[str, str], set[tuple[bytes, int]]] | None = None

    # -------------------------------------------------------------- parsing

    def _parse(self, tx: bytes) -> tuple[str, Any]:
        """Parse a transaction or raise ValueError/LedgerError; pure, so CheckTx and
        ProcessProposal agree, and memoized: a tx is checked on arrival, then again in
        ProcessProposal, FinalizeBlock and mempool rechecks (signature checks dominate)."""
        parsed = _PARSED.get(tx)
        if parsed is None:
            parsed = self._parse_uncached(tx)
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            _PARSED[tx] = parsed
        # Per instance, after the cache: the cache is shared by every KVStore.
        if parsed[0] == "val" and not self.validator_txs:
            raise ValueError("validator changes by transaction are disabled: the validator set "
                             "comes from genesis")
        return parsed

    def _parse_uncached(self, tx: bytes) -> tuple[str, Any]:
        if not tx or len(tx) > MAX_TX:
            raise ValueError("empty or oversized transaction")
        if tx.startswith(b"stx:"):
            d = decode(tx[4:])
            if not isinstance(d, dict) or set(d) != {"pub", "nonce", "kv", "sig"}:
                raise ValueError("malformed signed transaction")
            pub, nonce, kv, sig = d["pub"], d["nonce"], d["kv"], d["sig"]
            if not (isinstance(pub, bytes) and isinstance(nonce, int) and isinstance(kv, bytes)
                    and isinstance(sig, bytes)) or isinstance(nonce, bool):
                raise ValueError("malformed signed transaction")
            if not crypto.verify(pub, signed_tx_bytes(pub, nonce, kv), sig):
                raise ValueError("bad transaction signature")
            k, v = _kv(kv)
            return "stx", (pub, nonce, k, v)
        text = tx.decode("utf-8")
        if text.startswith("val:"):
            hexkey, _, power = text[4:].partition("!")
            pk = bytes.fromhex(hexkey)
            if len(pk) != 32 or not power.isdigit() or len(power) > 15:
                raise ValueError("malformed validator update")
            return "val", ValidatorUpdate(pk, int(power))
        return "kv", _kv(tx)

    def check_tx(self, tx: bytes, recheck: bool = False) -> ResponseCheckTx:
        try:
            kind, body = self._parse(tx)
        except (ValueError, LedgerError) as e:
            return ResponseCheckTx(CODE_BAD, str(e))
        if kind == "stx" and (body[0], body[1]) in self.nonces:
            return ResponseCheckTx(CODE_REPLAY, "nonce already used")
        return ResponseCheckTx()

    # ---------------------------------------------------------------- ABCI

    def info(self) -> ResponseInfo:
        return ResponseInfo(self.height, self.app_hash)

    def init_chain(self, req: RequestInitChain) -> ResponseInitChain:
        if isinstance(req.app_state, dict):
            self.state = {k: v for k, v in req.app_state.items() if isinstance(v, str)}
        self.app_hash = hashlib.sha256(encode(sorted(self.state.items()))).digest()
        return ResponseInitChain((), self.app_hash)

    def prepare_proposal(self, req: RequestPrepareProposal) -> tuple[bytes, ...]:
        out, size, seen = [], 0, set()
        for tx in req.txs:
            if size + len(tx) > req.max_tx_bytes or tx in seen:
                continue
            if self.check_tx(tx).ok:
                out.append(tx)
                seen.add(tx)
                size += len(tx)
        return tuple(out)

    def process_proposal(self, req: RequestProcessProposal) -> bool:
        seen: set[tuple[bytes, int]] = set()
        for tx in req.txs:
            try:
                kind, body = self._parse(tx)
            except (ValueError, LedgerError):
                return False
            if kind == "stx":
                key = (body[0], body[1])
                if key in self.nonces or key in seen:
                    return False
                seen.add(key)
        return True

    def finalize_block(self, req: RequestFinalizeBlock) -> ResponseFinalizeBlock:
        writes: dict[str, str] = {}
        nonces: set[tuple[bytes, int]] = set()
        results, updates = [], []
        for tx in req.txs:
            try:
                kind, body = self._parse(tx)
            except (ValueError, LedgerError) as e:
                results.append(ExecTxResult(CODE_BAD, b"", str(e)))
                continue
            if kind == "val":
                assert isinstance(body, ValidatorUpdate)
                updates.append(body)
            elif kind == "stx":
                pub, nonce, k, v = body
                if (pub, nonce) in self.nonces or (pub, nonce) in nonces:
                    results.append(ExecTxResult(CODE_REPLAY, b"", "nonce already used"))
                    continue
                nonces.add((pub, nonce))
                writes[k] = v
            else:
                k, v = body
                writes[k] = v
            results.append(ExecTxResult())
        for m in req.misbehavior:
            if m.type == MISBEHAVIOR_DUPLICATE_VOTE:
                writes[f"misbehavior/{m.validator_address.hex()}/{m.height}"] = "duplicate-vote"
        # Last update per key wins; the hash sees the writes in key order.
        by_key: dict[bytes, ValidatorUpdate] = {u.pub_key: u for u in updates}
        app_hash = hashlib.sha256(encode([self.app_hash, req.height,
                                          sorted(writes.items())])).digest()
        self._pending = (req.height, app_hash, writes, nonces)
        return ResponseFinalizeBlock(tuple(results), tuple(by_key[k] for k in sorted(by_key)),
                                     app_hash)

    def commit(self) -> int:
        if self._pending is not None:
            self.height, self.app_hash, writes, nonces = self._pending
            self.state.update(writes)
            self.nonces |= nonces
            self._pending = None
        return 0

    def query(self, path: str, data: bytes, height: int = 0,
              prove: bool = False) -> ResponseQuery:
        if path in ("", "/key", "key"):
            key = data.decode("utf-8", "replace")
            if key not in self.state:
                return ResponseQuery(1, b"", "key not found", self.height)
            return ResponseQuery(0, self.state[key].encode(), "", self.height)
        if path in ("/misbehavior", "misbehavior"):
            keys = sorted(k for k in self.state if k.startswith("misbehavior/"))
            return ResponseQuery(0, "\n".join(keys).encode(), "", self.height)
        return ResponseQuery(1, b"", f"unknown query path {path!r}", self.height)


def _kv(raw: bytes) -> tuple[str, str]:
    text = raw.decode("utf-8")
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ValueError("a transaction is key=value with a non-empty key")
    return key, value


def signed_tx_bytes(pub: bytes, nonce: int, kv: bytes) -> bytes:
    return encode({"domain": "communs-kv-tx", "pub": pub, "nonce": nonce, "kv": kv})


def make_signed_tx(key: crypto.PrivateKey, nonce: int, kv: bytes) -> bytes:
    sig = key.sign(signed_tx_bytes(key.pub_key, nonce, kv))
    return b"stx:" + encode({"pub": key.pub_key, "nonce": nonce, "kv": kv, "sig": sig})
