"""Market messages and their wire forms (addresses 20 raw bytes, hashes 32 raw bytes, amounts
integers of ucom, ids text of 1 to 255 characters):

  signed by an account:
  {"type": "market/list", "provider": addr, "dataset_id": str, "provider_did": str,
   "content_hash": bytes, "price": int >= 0, "contributors": [{"account": addr, "share": int > 0}],
   "stake": int >= 0}                        (contributors empty: the provider, share 1)
  {"type": "market/update_listing", "provider": addr, "dataset_id": str, "price": int,
   "contributors": [...], "content_hash": bytes}
  {"type": "market/delist", "provider": addr, "dataset_id": str}
  {"type": "market/stake" | "market/unstake", "curator": addr, "dataset_id": str, "amount": int > 0}
  {"type": "market/pay", "payer": addr, "dataset_id": str, "agreement_id": str, "amount": int >= 0}
  {"type": "market/anchor", "signer": addr, "kind": "agreement"|"receipt", "id": str,
   "digest": bytes, "agreement_id": str, "dataset_id": str, "provider_did": str,
   "consumer_did": str, "policy_hash": bytes}
  governance only (authority = the gov module account):
  {"type": "market/slash", "authority": addr, "dataset_id": str, "fraction_bps": 1..10000,
   "reason": str (at most 512)}"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

from .. import wire
from ..errors import INVALID_REQUEST, TX_DECODE, AppError
from ..msgs import Msg
from ..registry import model as rmodel
from .model import AGREEMENT, MAX_ID, MAX_REASON, RECEIPT
from .params import BPS

Contributors = tuple[tuple[bytes, int], ...]
MAX_CONTRIBUTORS_WIRE = 256  # the parameter max_contributors is checked by the handler


class _Base(wire.Message):
    SIGNER: ClassVar[str]

    @property
    def signer(self) -> bytes:
        return getattr(self, self.SIGNER)  # type: ignore[no-any-return]

    def to_obj(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.type}
        for f in fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            d[f.name] = ([{"account": a, "share": s} for a, s in v]
                         if f.name == "contributors" else v)
        return d


@dataclass(frozen=True)
class MsgList(_Base):
    provider: bytes
    dataset_id: str
    provider_did: str
    content_hash: bytes
    price: int
    contributors: Contributors
    stake: int
    type: ClassVar[str] = "market/list"
    SIGNER: ClassVar[str] = "provider"

    def spend(self) -> int:
        return self.stake


@dataclass(frozen=True)
class MsgUpdateListing(_Base):
    provider: bytes
    dataset_id: str
    price: int
    contributors: Contributors
    content_hash: bytes
    type: ClassVar[str] = "market/update_listing"
    SIGNER: ClassVar[str] = "provider"


@dataclass(frozen=True)
class MsgDelist(_Base):
    provider: bytes
    dataset_id: str
    type: ClassVar[str] = "market/delist"
    SIGNER: ClassVar[str] = "provider"


@dataclass(frozen=True)
class MsgStake(_Base):
    curator: bytes
    dataset_id: str
    amount: int
    type: ClassVar[str] = "market/stake"
    SIGNER: ClassVar[str] = "curator"

    def spend(self) -> int:
        return self.amount


@dataclass(frozen=True)
class MsgUnstake(_Base):
    curator: bytes
    dataset_id: str
    amount: int
    type: ClassVar[str] = "market/unstake"
    SIGNER: ClassVar[str] = "curator"


@dataclass(frozen=True)
class MsgPay(_Base):
    payer: bytes
    dataset_id: str
    agreement_id: str
    amount: int
    type: ClassVar[str] = "market/pay"
    SIGNER: ClassVar[str] = "payer"

    def spend(self) -> int:
        return self.amount


@dataclass(frozen=True)
class MsgAnchor(_Base):
    signer_: bytes
    kind: str
    id: str
    digest: bytes
    agreement_id: str
    dataset_id: str
    provider_did: str
    consumer_did: str
    policy_hash: bytes
    type: ClassVar[str] = "market/anchor"
    SIGNER: ClassVar[str] = "signer_"

    def to_obj(self) -> dict[str, Any]:
        d = super().to_obj()
        d["signer"] = d.pop("signer_")
        return d


@dataclass(frozen=True)
class MsgSlash(_Base):
    authority: bytes
    dataset_id: str
    fraction_bps: int
    reason: str
    type: ClassVar[str] = "market/slash"
    SIGNER: ClassVar[str] = "authority"


def dataset_id(v: Any, name: str = "the dataset id") -> str:
    return wire.text(v, name, MAX_ID, required=True)


def hash32(v: Any, name: str) -> bytes:
    if not isinstance(v, bytes) or len(v) != 32:
        raise AppError(INVALID_REQUEST, f"{name} must be 32 bytes (SHA-256)")
    return v


def contributors(v: Any) -> Contributors:
    if not isinstance(v, list) or len(v) > MAX_CONTRIBUTORS_WIRE:
        raise AppError(TX_DECODE, f"contributors must be a list of at most "
                                  f"{MAX_CONTRIBUTORS_WIRE} {{account, share}} objects")
    out = []
    for c in v:
        if not isinstance(c, dict) or set(c) != {"account", "share"}:
            raise AppError(TX_DECODE, "each contributor is an object with account and share")
        out.append((wire.addr(c["account"], "a contributor's account"),
                    wire.uint(c["share"], "a contributor's share", positive=True)))
    if len({a for a, _ in out}) != len(out):
        raise AppError(INVALID_REQUEST, "a contributor appears twice in contributors")
    return tuple(out)


def parse_list(d: dict[str, Any]) -> MsgList:
    wire.fields(d, {"type", "provider", "dataset_id", "provider_did", "content_hash", "price",
                    "contributors", "stake"})
    return MsgList(wire.addr(d["provider"], "provider"), dataset_id(d["dataset_id"]),
                   rmodel.check_did_web(d["provider_did"]),
                   hash32(d["content_hash"], "the content hash"),
                   wire.uint(d["price"], "the price"), contributors(d["contributors"]),
                   wire.uint(d["stake"], "the stake"))


def parse_update(d: dict[str, Any]) -> MsgUpdateListing:
    wire.fields(d, {"type", "provider", "dataset_id", "price", "contributors", "content_hash"})
    return MsgUpdateListing(wire.addr(d["provider"], "provider"), dataset_id(d["dataset_id"]),
                            wire.uint(d["price"], "the price"), contributors(d["contributors"]),
                            hash32(d["content_hash"], "the content hash"))


def parse_delist(d: dict[str, Any]) -> MsgDelist:
    wire.fields(d, {"type", "provider", "dataset_id"})
    return MsgDelist(wire.addr(d["provider"], "provider"), dataset_id(d["dataset_id"]))


def _stake_fields(d: dict[str, Any]) -> tuple[bytes, str, int]:
    wire.fields(d, {"type", "curator", "dataset_id", "amount"})
    return (wire.addr(d["curator"], "curator"), dataset_id(d["dataset_id"]),
            wire.uint(d["amount"], "the amount", positive=True))


def parse_stake(d: dict[str, Any]) -> MsgStake:
    return MsgStake(*_stake_fields(d))


def parse_unstake(d: dict[str, Any]) -> MsgUnstake:
    return MsgUnstake(*_stake_fields(d))


def parse_pay(d: dict[str, Any]) -> MsgPay:
    wire.fields(d, {"type", "payer", "dataset_id", "agreement_id", "amount"})
    return MsgPay(wire.addr(d["payer"], "payer"), dataset_id(d["dataset_id"]),
                  dataset_id(d["agreement_id"], "the agreement id"),
                  wire.uint(d["amount"], "the amount"))


def parse_anchor(d: dict[str, Any]) -> MsgAnchor:
    wire.fields(d, {"type", "signer", "kind", "id", "digest", "agreement_id", "dataset_id",
                    "provider_did", "consumer_did", "policy_hash"})
    kind = d["kind"]
    if kind not in (AGREEMENT, RECEIPT):
        raise AppError(INVALID_REQUEST, "an anchor's kind is agreement or receipt")
    m = MsgAnchor(wire.addr(d["signer"], "signer"), kind, dataset_id(d["id"], "the anchor id"),
                  hash32(d["digest"], "the digest"),
                  dataset_id(d["agreement_id"], "the agreement id"),
                  dataset_id(d["dataset_id"]), rmodel.check_did_web(d["provider_did"]),
                  rmodel.check_did(d["consumer_did"]), hash32(d["policy_hash"],
                                                              "the policy hash"))
    if kind == AGREEMENT and m.agreement_id != m.id:
        raise AppError(INVALID_REQUEST, "an agreement's anchor names itself as agreement_id")
    if kind == AGREEMENT and m.policy_hash == bytes(32):
        raise AppError(INVALID_REQUEST, "an agreement's anchor needs its policy hash")
    return m


def parse_slash(d: dict[str, Any]) -> MsgSlash:
    wire.fields(d, {"type", "authority", "dataset_id", "fraction_bps", "reason"})
    bps = wire.uint(d["fraction_bps"], "fraction_bps", positive=True)
    if bps > BPS:
        raise AppError(INVALID_REQUEST, f"fraction_bps is at most {BPS} (all the stake)")
    return MsgSlash(wire.addr(d["authority"], "authority"), dataset_id(d["dataset_id"]), bps,
                    wire.text(d["reason"], "the reason", MAX_REASON, required=True))


def no_check(m: Msg) -> None:
    """Messages signed by an account: nothing to check beyond their parsing."""


def check_gov(m: Msg) -> None:
    assert isinstance(m, MsgSlash)
    wire.require_gov(m.authority, m.type)
