"""Registry handlers and genesis. An applicant's own transaction proposes it; governance admits,
suspends, reinstates or removes members and keeps the trust anchors; a member may update its own
endpoint and self-description hash. Governance admitting a proposed DID sets the fields of its
message (so a DID taken by someone else's application is still the real owner's to claim)."""

from __future__ import annotations

from typing import Any

from ...abci import Event
from .. import address, bank
from ..blockctx import BlockContext
from ..errors import INVALID_REQUEST, NOT_FOUND, UNAUTHORIZED, AppError
from ..msgs import Msg
from ..state import State
from . import model
from .model import ACTIVE, PROPOSED, REMOVED, Member
from .msgs import (
    MsgAddTrustAnchor,
    MsgApply,
    MsgRegisterMember,
    MsgRemoveTrustAnchor,
    MsgSetMemberStatus,
    MsgUpdateMember,
    check_gov,
)


def _event(action: str, m: Member) -> Event:
    return bank.event("registry_member", action=action, did=m.did, status=m.status,
                      account=address.to_text(m.account))


def _free(state: State, did: str, account: bytes) -> None:
    """Refuse a DID already registered or an account that belongs to another DID."""
    have = model.member(state, did)
    if have is not None:
        raise AppError(INVALID_REQUEST, f"{did} is already registered (status {have.status})")
    owner = model.by_account(state, account)
    if owner is not None and owner.did != did:
        raise AppError(INVALID_REQUEST, f"account {address.to_text(account)} already belongs "
                                        f"to {owner.did}")


def handle_apply(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgApply)
    _free(state, m.did, m.account)
    new = Member(m.did, m.endpoint, m.sd_hash, m.account, PROPOSED, ctx.height, ctx.time)
    model.put(state, new)
    return [_event("apply", new)]


def handle_update(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgUpdateMember)
    old = model.must_member(state, m.did)
    if m.account != old.account:
        raise AppError(UNAUTHORIZED, f"only {m.did}'s own account "
                                     f"{address.to_text(old.account)} can update it")
    if old.status == REMOVED:
        raise AppError(INVALID_REQUEST, f"{m.did} was removed and can no longer be updated")
    new = Member(m.did, m.endpoint, m.sd_hash, old.account, old.status, old.since_height,
                 old.since_time)
    model.put(state, new)
    return [_event("update", new)]


def handle_register(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgRegisterMember)
    check_gov(m)
    old = model.member(state, m.did)
    if old is not None and old.status == PROPOSED:
        owner = model.by_account(state, m.account)
        if owner is not None and owner.did != m.did:
            raise AppError(INVALID_REQUEST, f"account {address.to_text(m.account)} already "
                                            f"belongs to {owner.did}")
    else:
        _free(state, m.did, m.account)
    new = Member(m.did, m.endpoint, m.sd_hash, m.account, ACTIVE, ctx.height, ctx.time)
    model.put(state, new, None if old is None else old.account)
    return [_event("register", new)]


def handle_set_status(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgSetMemberStatus)
    check_gov(m)
    old = model.must_member(state, m.did)
    model.check_transition(old, m.status)
    new = old.moved(m.status, ctx.height, ctx.time)
    model.put(state, new)
    return [_event("set_status", new)]


def handle_add_anchor(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    """Adds the issuer, or adds types to an issuer already trusted."""
    assert isinstance(m, MsgAddTrustAnchor)
    check_gov(m)
    types = set(model.anchor_types(state, m.did) or ()) | set(m.credential_types)
    if len(types) > model.MAX_TYPES:
        raise AppError(INVALID_REQUEST, f"a trust anchor has at most {model.MAX_TYPES} "
                                        f"credential types")
    model.put_anchor(state, m.did, tuple(types))
    return [bank.event("trust_anchor", action="add", did=m.did,
                       credential_types=",".join(sorted(types)))]


def handle_remove_anchor(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgRemoveTrustAnchor)
    check_gov(m)
    if model.anchor_types(state, m.did) is None:
        raise AppError(NOT_FOUND, f"{m.did} is not a trust anchor")
    state.delete(model.ANCHOR + m.did.encode())
    return [bank.event("trust_anchor", action="remove", did=m.did)]


def _fail(where: str, e: AppError | str) -> AppError:
    return AppError(INVALID_REQUEST, f"registry: {where}: {e}")


def genesis(state: State, section: Any, ctx: BlockContext) -> None:
    """{"members": [{"did", "endpoint", "sd_hash" (hex), "account" (com1...)}],
        "trust_anchors": [{"did", "credential_types": [...]}]}: founding members (status
    member since the genesis height and time) and trust anchors; AppError names the first
    problem."""
    if section is None:
        section = {}
    if not isinstance(section, dict) or set(section) - {"members", "trust_anchors"}:
        raise _fail("section", "an object with members and trust_anchors")
    members, anchors = section.get("members", []), section.get("trust_anchors", [])
    if not isinstance(members, list) or not isinstance(anchors, list):
        raise _fail("section", "members and trust_anchors are lists")
    for i, e in enumerate(members):
        where = f"members[{i}]"
        if not isinstance(e, dict) or set(e) != {"did", "endpoint", "sd_hash", "account"}:
            raise _fail(where, "an object with did, endpoint, sd_hash and account")
        try:
            sd = bytes.fromhex(e["sd_hash"]) if isinstance(e["sd_hash"], str) else None
            did = model.check_did_web(e["did"])
            new = Member(did, model.check_endpoint(e["endpoint"]), model.check_sd_hash(sd),
                         address.parse(e["account"]) if isinstance(e["account"], str) else b"",
                         ACTIVE, ctx.height, ctx.time)
            if len(new.account) != address.ADDRESS_SIZE:
                raise AppError(INVALID_REQUEST, "account must be a com1... address")
            _free(state, did, new.account)
        except (AppError, ValueError) as err:
            raise _fail(where, err if isinstance(err, AppError)
                        else "sd_hash must be 64 hex digits") from err
        model.put(state, new)
    for i, e in enumerate(anchors):
        where = f"trust_anchors[{i}]"
        if not isinstance(e, dict) or set(e) != {"did", "credential_types"}:
            raise _fail(where, "an object with did and credential_types")
        try:
            did = model.check_did(e["did"])
            types = model.check_types(e["credential_types"])
        except AppError as err:
            raise _fail(where, err) from err
        if model.anchor_types(state, did) is not None:
            raise _fail(where, f"{did} appears twice")
        model.put_anchor(state, did, types)
