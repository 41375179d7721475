"""Transactions: the model, the canonical encoding, the bytes that are signed, and decoding
with one clear error per way a transaction can be wrong.

Wire form: encoding.encode({"body": body, "sig": 64 bytes}) with
  body = {"chain_id": str, "msgs": [msg, ...], "fee": int (ucom), "sequence": int,
          "pub_key": 32 bytes (Ed25519), "memo": str}
The signature is Ed25519 over SIGN_DOMAIN + encode(body): everything that matters (chain id,
sequence, fee, messages) is signed, and the domain keeps these bytes from ever being mistaken
for a vote or another signed object. The signer is the address of `pub_key`; every message
must be signed by it."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from .. import crypto
from ..encoding import decode, encode
from ..errors import DecodeError
from . import address, msgs
from .errors import TX_DECODE, TX_TOO_LARGE, UNAUTHORIZED, AppError
from .params import Params

SIGN_DOMAIN = b"communs-ledger-tx/v1\x00"
BODY_FIELDS = {"chain_id", "msgs", "fee", "sequence", "pub_key", "memo"}


@dataclass(frozen=True)
class Tx:
    chain_id: str
    msgs: tuple[msgs.Msg, ...]
    fee: int
    sequence: int
    pub_key: bytes
    memo: str = ""
    sig: bytes = b""
    # The encoded body as received: decoding is canonical, so these are exactly the bytes that
    # encoding the body would give, without the cost of encoding it again.
    body_bytes: bytes = field(default=b"", compare=False, repr=False)

    @property
    def signer(self) -> bytes:
        return address.of_pub_key(self.pub_key)

    def body(self) -> dict[str, Any]:
        return {"chain_id": self.chain_id, "msgs": [m.to_obj() for m in self.msgs],
                "fee": self.fee, "sequence": self.sequence, "pub_key": self.pub_key,
                "memo": self.memo}

    def sign_bytes(self) -> bytes:
        return SIGN_DOMAIN + (self.body_bytes or encode(self.body()))

    def encode(self) -> bytes:
        return encode({"body": self.body(), "sig": self.sig})

    def gas(self, params: Params) -> int:
        return sum(msgs.gas(m, params) for m in self.msgs)

    def spend(self) -> int:
        """What the messages take from the signer (the fee aside)."""
        return sum(m.spend() for m in self.msgs)


def _uint(d: dict[str, Any], name: str) -> int:
    v = d[name]
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise AppError(TX_DECODE, f"the transaction's {name} must be a non-negative integer")
    return v


def decode_tx(raw: bytes, params: Params) -> Tx:
    """A transaction from its bytes, its messages checked and its signature verified."""
    return verified(decode_unsigned(raw, params))


def verified(tx: Tx) -> Tx:
    if not crypto.verify(tx.pub_key, tx.sign_bytes(), tx.sig):
        raise AppError(UNAUTHORIZED, "invalid signature")
    return tx


def decode_unsigned(raw: bytes, params: Params) -> Tx:
    """Decode and check the size and the shape, without verifying the signature."""
    if len(raw) > params.max_tx_bytes:
        raise AppError(TX_TOO_LARGE,
                       f"transaction of {len(raw)} bytes exceeds {params.max_tx_bytes}")
    try:
        d = decode(raw)
    except DecodeError as e:
        raise AppError(TX_DECODE, f"transaction is not canonically encoded ({e})") from e
    if not isinstance(d, dict) or set(d) != {"body", "sig"} or not isinstance(d["body"], dict):
        raise AppError(TX_DECODE, "a transaction is an object with a body and a sig")
    body, sig = d["body"], d["sig"]
    if set(body) != BODY_FIELDS:
        raise AppError(TX_DECODE, f"a transaction body has exactly the fields "
                                  f"{', '.join(sorted(BODY_FIELDS))}")
    if not isinstance(sig, bytes) or len(sig) != crypto.SIG_SIZE:
        raise AppError(TX_DECODE, "the signature must be 64 bytes")
    pub = body["pub_key"]
    if not isinstance(pub, bytes) or len(pub) != crypto.PUBKEY_SIZE:
        raise AppError(TX_DECODE, "the public key must be 32 bytes (Ed25519)")
    if not isinstance(body["chain_id"], str) or not isinstance(body["memo"], str):
        raise AppError(TX_DECODE, "the chain id and memo must be text")
    if len(body["memo"].encode()) > params.max_memo_bytes:
        raise AppError(TX_DECODE, f"the memo exceeds {params.max_memo_bytes} bytes")
    raw_msgs = body["msgs"]
    if not isinstance(raw_msgs, list) or not 1 <= len(raw_msgs) <= params.max_msgs:
        raise AppError(TX_DECODE, f"a transaction has 1 to {params.max_msgs} messages")
    # raw = "d" 2, "s" 4 "body", body, "s" 3 "sig", "b" 64, sig: the body sits between.
    tx = Tx(body["chain_id"], tuple(msgs.parse(m) for m in raw_msgs), _uint(body, "fee"),
            _uint(body, "sequence"), pub, body["memo"], sig, raw[8:-71])
    for i, m in enumerate(tx.msgs, 1):
        if m.signer != tx.signer:
            raise AppError(UNAUTHORIZED, f"message {i} is from {address.to_text(m.signer)}, "
                                         f"not from the signer {address.to_text(tx.signer)}")
    return tx


class ParseCache:
    """Bounded memo of decoded transactions (or the AppError that refused them): a transaction
    is decoded when its signature is listed for the ingestion thread, then checked on arrival,
    rechecked, proposed and executed. Its signature is verified once, the first time `get` sees
    it. Keyed by the raw bytes and the parameters' identity (params.load returns one object per
    stored value), since the size and message limits are parameters."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._memo: OrderedDict[bytes, list[Any]] = OrderedDict()  # raw -> [Tx|AppError, verified]
        self._params: Params | None = None

    def _entry(self, raw: bytes, params: Params) -> list[Any]:
        if params is not self._params:
            self._memo.clear()
            self._params = params
        entry = self._memo.get(raw)
        if entry is None:
            try:
                entry = [decode_unsigned(raw, params), False]
            except AppError as e:
                entry = [e, True]
            self._memo[raw] = entry
            if len(self._memo) > self.size:
                self._memo.popitem(last=False)
        return entry

    def unsigned(self, raw: bytes, params: Params) -> Tx:
        """Decoded and its shape checked; the signature not verified yet."""
        return _result(self._entry(raw, params)[0])

    def get(self, raw: bytes, params: Params) -> Tx:
        """Decoded, its shape checked and its signature verified."""
        entry = self._entry(raw, params)
        if not entry[1]:
            try:
                verified(entry[0])
            except AppError as e:
                entry[0] = e
            entry[1] = True
        return _result(entry[0])


def _result(hit: Tx | AppError) -> Tx:
    if isinstance(hit, AppError):
        raise AppError(hit.code, str(hit))  # a fresh one: re-raising grows a traceback
    return hit
