"""Registry messages and their wire forms (addresses 20 raw bytes, sd_hash 32 raw bytes):

  signed by an account:
  {"type": "registry/apply", "account": addr, "did": str, "endpoint": str, "sd_hash": bytes}
  {"type": "registry/update_member", "account": addr, "did": str, "endpoint": str, "sd_hash": bytes}
  governance only (authority = the gov module account):
  {"type": "registry/register_member", "authority": addr, "did": str, "endpoint": str,
   "sd_hash": bytes, "account": addr}
  {"type": "registry/set_member_status", "authority": addr, "did": str,
   "status": "member"|"suspended"|"removed"}
  {"type": "registry/add_trust_anchor", "authority": addr, "did": str, "credential_types": [str]}
  {"type": "registry/remove_trust_anchor", "authority": addr, "did": str}"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

from .. import wire
from ..errors import INVALID_REQUEST, AppError
from ..msgs import Msg
from . import model


class _Base(wire.Message):
    def to_obj(self) -> dict[str, Any]:
        return {"type": self.type,
                **{f.name: getattr(self, f.name) for f in fields(self)}}  # type: ignore[arg-type]


class _Signed(_Base):
    account: bytes

    @property
    def signer(self) -> bytes:
        return self.account


class _Gov(_Base):
    authority: bytes

    @property
    def signer(self) -> bytes:
        return self.authority


@dataclass(frozen=True)
class MsgApply(_Signed):
    account: bytes
    did: str
    endpoint: str
    sd_hash: bytes
    type: ClassVar[str] = "registry/apply"


@dataclass(frozen=True)
class MsgUpdateMember(_Signed):
    account: bytes
    did: str
    endpoint: str
    sd_hash: bytes
    type: ClassVar[str] = "registry/update_member"


@dataclass(frozen=True)
class MsgRegisterMember(_Gov):
    authority: bytes
    did: str
    endpoint: str
    sd_hash: bytes
    account: bytes
    type: ClassVar[str] = "registry/register_member"


@dataclass(frozen=True)
class MsgSetMemberStatus(_Gov):
    authority: bytes
    did: str
    status: str
    type: ClassVar[str] = "registry/set_member_status"


@dataclass(frozen=True)
class MsgAddTrustAnchor(_Gov):
    authority: bytes
    did: str
    credential_types: tuple[str, ...]
    type: ClassVar[str] = "registry/add_trust_anchor"

    def to_obj(self) -> dict[str, Any]:
        return {"type": self.type, "authority": self.authority, "did": self.did,
                "credential_types": list(self.credential_types)}


@dataclass(frozen=True)
class MsgRemoveTrustAnchor(_Gov):
    authority: bytes
    did: str
    type: ClassVar[str] = "registry/remove_trust_anchor"


def _member_fields(d: dict[str, Any]) -> tuple[str, str, bytes]:
    return (model.check_did_web(d["did"]), model.check_endpoint(d["endpoint"]),
            model.check_sd_hash(d["sd_hash"]))


def parse_apply(d: dict[str, Any]) -> MsgApply:
    wire.fields(d, {"type", "account", "did", "endpoint", "sd_hash"})
    return MsgApply(wire.addr(d["account"], "account"), *_member_fields(d))


def parse_update(d: dict[str, Any]) -> MsgUpdateMember:
    wire.fields(d, {"type", "account", "did", "endpoint", "sd_hash"})
    return MsgUpdateMember(wire.addr(d["account"], "account"), *_member_fields(d))


def parse_register(d: dict[str, Any]) -> MsgRegisterMember:
    wire.fields(d, {"type", "authority", "did", "endpoint", "sd_hash", "account"})
    return MsgRegisterMember(wire.addr(d["authority"], "authority"), *_member_fields(d),
                             wire.addr(d["account"], "account"))


def parse_set_status(d: dict[str, Any]) -> MsgSetMemberStatus:
    wire.fields(d, {"type", "authority", "did", "status"})
    status = d["status"]
    if status not in (model.ACTIVE, model.SUSPENDED, model.REMOVED):
        raise AppError(INVALID_REQUEST, "a member's status can be set to member, suspended "
                                        "or removed")
    return MsgSetMemberStatus(wire.addr(d["authority"], "authority"),
                              model.check_did_web(d["did"]), status)


def parse_add_anchor(d: dict[str, Any]) -> MsgAddTrustAnchor:
    wire.fields(d, {"type", "authority", "did", "credential_types"})
    return MsgAddTrustAnchor(wire.addr(d["authority"], "authority"), model.check_did(d["did"]),
                             model.check_types(d["credential_types"]))


def parse_remove_anchor(d: dict[str, Any]) -> MsgRemoveTrustAnchor:
    wire.fields(d, {"type", "authority", "did"})
    return MsgRemoveTrustAnchor(wire.addr(d["authority"], "authority"),
                                model.check_did(d["did"]))


def no_check(m: Msg) -> None:
    """Messages signed by an account: nothing to check beyond their parsing."""


def check_gov(m: Msg) -> None:
    """Governance-only messages: refused at CheckTx unless their authority is the gov
    account (which no transaction can sign)."""
    assert isinstance(m, _Gov)
    wire.require_gov(m.authority, m.type)
