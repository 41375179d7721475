"""Registry queries: (the store key that proves the answer, the JSON-able answer). A lookup is
one key (reg/m/+DID, reg/a/+account, reg/t/+DID); a list's key is the prefix of its entries,
proven entry by entry.

`answer(state, path, data)` serves the RPC paths:
  /registry/members  data = "" or a status     /registry/member  data = DID
  /registry/member_by_account  data = com1...  /registry/anchors  /registry/anchor  data = DID"""

from __future__ import annotations

from typing import Any

from ...encoding import decode
from .. import address
from ..errors import INVALID_REQUEST, NOT_FOUND, UNKNOWN_REQUEST, AppError
from ..state import State
from . import model
from .model import ANCHOR, BY_ACCOUNT, MEMBER, STATUSES, Member

Answer = tuple[bytes, dict[str, Any]]
PATHS = ("/registry/members", "/registry/member", "/registry/member_by_account",
         "/registry/anchors", "/registry/anchor")


def member_obj(m: Member) -> dict[str, Any]:
    return {"did": m.did, "endpoint": m.endpoint, "sd_hash": m.sd_hash.hex(),
            "account": address.to_text(m.account), "status": m.status,
            "since": {"height": m.since_height, "time": m.since_time}}


def members(state: State, status: str | None = None) -> Answer:
    if status is not None and status not in STATUSES:
        raise AppError(INVALID_REQUEST, f"unknown member status {status[:32]!r} "
                                        f"(known: {', '.join(STATUSES)})")
    found = (Member(**decode(raw)) for _, raw in state.items(MEMBER))
    return MEMBER, {"members": [member_obj(m) for m in found
                                if status is None or m.status == status]}


def member(state: State, did: str) -> Answer:
    return MEMBER + did.encode(), member_obj(model.must_member(state, did))


def member_by_account(state: State, account: bytes) -> Answer:
    m = model.by_account(state, account)
    if m is None:
        raise AppError(NOT_FOUND, f"{address.to_text(account)} is not a registry member's "
                                  f"account")
    return BY_ACCOUNT + account, member_obj(m)


def anchors(state: State) -> Answer:
    return ANCHOR, {"trust_anchors": [decode(raw) for _, raw in state.items(ANCHOR)]}


def anchor(state: State, did: str) -> Answer:
    raw = state.get(ANCHOR + did.encode())
    if raw is None:
        raise AppError(NOT_FOUND, f"{did[:255]} is not a trust anchor")
    return ANCHOR + did.encode(), decode(raw)


def answer(state: State, path: str, data: bytes) -> Answer:
    arg = data.decode("utf-8", "replace").strip()
    if path == "/registry/members":
        return members(state, arg or None)
    if path == "/registry/member":
        return member(state, arg)
    if path == "/registry/member_by_account":
        return member_by_account(state, address.parse(arg))
    if path == "/registry/anchors":
        return anchors(state)
    if path == "/registry/anchor":
        return anchor(state, arg)
    raise AppError(UNKNOWN_REQUEST, f"unknown query path {path[:64]!r} "
                                    f"(known: {', '.join(PATHS)})")


def problems(state: State) -> list[str]:
    """The registry's invariants: each member is stored identically under its DID and its
    account, and nothing else is under either prefix."""
    out = []
    accounts = set()
    for key, raw in state.items(MEMBER):
        m = Member(**decode(raw))
        if key != MEMBER + m.did.encode() or m.status not in STATUSES:
            out.append(f"registry entry {key[len(MEMBER):][:64]!r} is malformed")
        if state.get(BY_ACCOUNT + m.account) != raw:
            out.append(f"the account index of {m.did} does not hold its record")
        accounts.add(m.account)
    for key, _ in state.items(BY_ACCOUNT):
        if key[len(BY_ACCOUNT):] not in accounts:
            out.append(f"account {key[len(BY_ACCOUNT):].hex()} is indexed but no member has it")
    return out
