"""The federation's registry: members and trust anchors, their validation and their place in
the store.

  reg/m/ + DID (UTF-8)     -> encode(member)   one key per member: one proof answers a lookup
  reg/a/ + account (20)    -> the same bytes   (so a lookup by account is one proof too)
  reg/t/ + issuer DID      -> encode({"did": str, "credential_types": [str, ...] sorted})

A member is {"did", "endpoint", "sd_hash" (32 bytes: SHA-256 of its signed self-description),
"account" (20 bytes), "status", "since_height", "since_time" (block time in ms of the last status
change)}. Status changes follow `ALLOWED`; removed is final. An account belongs to one DID for
good (even once removed), so a lookup by account never changes its answer to another DID."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from typing import Any

from ...encoding import decode, encode
from ..errors import INVALID_REQUEST, NOT_FOUND, AppError
from ..state import State

MEMBER, BY_ACCOUNT, ANCHOR = b"reg/m/", b"reg/a/", b"reg/t/"
PROPOSED, ACTIVE, SUSPENDED, REMOVED = "proposed", "member", "suspended", "removed"
STATUSES = (PROPOSED, ACTIVE, SUSPENDED, REMOVED)
ALLOWED = {PROPOSED: (ACTIVE, REMOVED), ACTIVE: (SUSPENDED, REMOVED),
           SUSPENDED: (ACTIVE, REMOVED), REMOVED: ()}
MAX_DID, MAX_ENDPOINT, MAX_TYPES, MAX_TYPE = 255, 512, 32, 128

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_IDCHAR = r"(?:[A-Za-z0-9._-]|%[0-9A-F]{2})"
_DID_WEB = re.compile(rf"did:web:{_LABEL}(?:\.{_LABEL})*(?:%3A[0-9]{{1,5}})?(?::{_IDCHAR}+)*")
_DID = re.compile(rf"did:[a-z0-9]+:(?:{_IDCHAR}*:)*{_IDCHAR}+")
_ENDPOINT = re.compile(r"(?P<scheme>https?)://(?P<host>[A-Za-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?"
                       r"(?P<rest>[/?][\x21-\x22\x24-\x7e]*)?")  # printable ASCII but '#'
_LOCAL = ("127.0.0.1", "localhost")


def check_did_web(did: Any) -> str:
    if not isinstance(did, str) or len(did) > MAX_DID or not _DID_WEB.fullmatch(did):
        shown = did[:64] if isinstance(did, str) else type(did).__name__
        raise AppError(INVALID_REQUEST, f"{shown!r} is not a did:web DID (did:web:host, in "
                                        f"lower case, with an optional %3Aport and :path)")
    return did


def check_did(did: Any) -> str:
    if not isinstance(did, str) or len(did) > MAX_DID or not _DID.fullmatch(did):
        shown = did[:64] if isinstance(did, str) else type(did).__name__
        raise AppError(INVALID_REQUEST, f"{shown!r} is not a DID (did:method:identifier)")
    return did


def check_endpoint(url: Any) -> str:
    m = _ENDPOINT.fullmatch(url) if isinstance(url, str) and len(url) <= MAX_ENDPOINT else None
    if (m is None or int(m["port"] or 443) > 65535
            or (m["scheme"] == "http" and m["host"].lower() not in _LOCAL)):
        raise AppError(INVALID_REQUEST, "the endpoint must be an https URL (http only for "
                                        "127.0.0.1 or localhost)")
    return url  # type: ignore[no-any-return]


def check_sd_hash(v: Any) -> bytes:
    if not isinstance(v, bytes) or len(v) != 32:
        raise AppError(INVALID_REQUEST, "the self-description hash must be 32 bytes (SHA-256)")
    return v


def check_types(v: Any) -> tuple[str, ...]:
    if (not isinstance(v, list) or not 1 <= len(v) <= MAX_TYPES
            or any(not isinstance(t, str) or not 1 <= len(t) <= MAX_TYPE or t != t.strip()
                   for t in v)):
        raise AppError(INVALID_REQUEST, f"credential_types is a list of 1 to {MAX_TYPES} "
                                        f"credential type names")
    if len(set(v)) != len(v):
        raise AppError(INVALID_REQUEST, "credential_types names each type once")
    return tuple(v)


@dataclass(frozen=True)
class Member:
    did: str
    endpoint: str
    sd_hash: bytes
    account: bytes
    status: str
    since_height: int
    since_time: int

    def to_obj(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def moved(self, status: str, height: int, time: int) -> Member:
        return replace(self, status=status, since_height=height, since_time=time)


def member(state: State, did: str) -> Member | None:
    raw = state.get(MEMBER + did.encode())
    return None if raw is None else Member(**decode(raw))


def must_member(state: State, did: str) -> Member:
    m = member(state, did)
    if m is None:
        raise AppError(NOT_FOUND, f"{did} is not in the registry")
    return m


def by_account(state: State, account: bytes) -> Member | None:
    raw = state.get(BY_ACCOUNT + account)
    return None if raw is None else Member(**decode(raw))


def put(state: State, m: Member, old_account: bytes | None = None) -> None:
    raw = encode(m.to_obj())
    if old_account is not None and old_account != m.account:
        state.delete(BY_ACCOUNT + old_account)
    state.set(MEMBER + m.did.encode(), raw)
    state.set(BY_ACCOUNT + m.account, raw)


def check_transition(m: Member, status: str) -> None:
    if m.status == REMOVED:
        raise AppError(INVALID_REQUEST, f"{m.did} was removed, which is final")
    if status not in ALLOWED[m.status]:
        raise AppError(INVALID_REQUEST, f"{m.did} cannot go from {m.status} to {status}")


def anchor_types(state: State, did: str) -> tuple[str, ...] | None:
    raw = state.get(ANCHOR + did.encode())
    return None if raw is None else tuple(decode(raw)["credential_types"])


def put_anchor(state: State, did: str, types: tuple[str, ...]) -> None:
    state.set(ANCHOR + did.encode(), encode({"did": did, "credential_types": sorted(types)}))
