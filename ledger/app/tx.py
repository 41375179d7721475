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
from dataclasses import dataclass
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

    @property
    def signer(self) -> bytes:
        return address.of_pub_key(self.pub_key)

    def body(self) -> dict[str, Any]:
        return {"chain_id": self.chain_id, "msgs": [m.to_obj() for m in self.msgs],
                "fee": self.fee, "sequence": self.sequence, "pub_key": self.pub_key,
                "memo": self.memo}

    def sign_bytes(self) -> bytes:
        return SIGN_DOMAIN + encode(self.body())

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
    if len(raw) > params.max_tx_bytes:
        raise AppError(TX_TOO_LARGE,
                       f"transaction of {len(raw)} bytes exceeds {params.max_tx_bytes}")
    tx = decode_unsigned(raw, params)
    if not crypto.verify(tx.pub_key, tx.sign_bytes(), tx.sig):
        raise AppError(UNAUTHORIZED, "invalid signature")
    return tx


def decode_unsigned(raw: bytes, params: Params) -> Tx:
    """Decode and check the shape, without verifying the signature."""
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
    tx = Tx(body["chain_id"], tuple(msgs.parse(m) for m in raw_msgs), _uint(body, "fee"),
            _uint(body, "sequence"), pub, body["memo"], sig)
    for i, m in enumerate(tx.msgs, 1):
        if m.signer != tx.signer:
            raise AppError(UNAUTHORIZED, f"message {i} is from {address.to_text(m.signer)}, "
                                         f"not from the signer {address.to_text(tx.signer)}")
    return tx


class ParseCache:
    """Bounded memo of decode_tx results (the Tx or the AppError): a transaction is decoded on
    arrival, then in rechecks, ProcessProposal and FinalizeBlock. Keyed by the raw bytes and
    the parameters' identity (params.load returns one object per stored value), since the size and message limits are parameters."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._memo: OrderedDict[bytes, Tx | AppError] = OrderedDict()
        self._params: Params | None = None

    def get(self, raw: bytes, params: Params) -> Tx:
        if params is not self._params:
            self._memo.clear()
            self._params = params
        hit = self._memo.get(raw)
        if hit is None:
            try:
                hit = decode_tx(raw, params)
            except AppError as e:
                hit = e
            self._memo[raw] = hit
            if len(self._memo) > self.size:
                self._memo.popitem(last=False)
        if isinstance(hit, AppError):
            raise AppError(hit.code, str(hit))  # a fresh one: re-raising grows a traceback
        return hit
