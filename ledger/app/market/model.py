"""The market's records and their place in the store (all under b"mkt/"; one key per thing a
connector proves, so that each proven query reads single keys only):

  mkt/l/ + dataset id      -> listing {"dataset_id", "provider" (20), "provider_did",
                              "content_hash" (32), "price", "contributors": [[account, share]],
                              "status", "since_height", "since_time"}
  mkt/s/ + dataset id      -> stakes {"provider_bonded", "curators": [[account, bonded]] (by
                              account), "unbonding": [[account, amount, release_height]]}
  mkt/q/ + height(8) + id  -> 1: the dataset has unbonding stake released after that block
  mkt/p/ + agreement id    -> payments {"agreement_id", "dataset_id", "payer", "count",
                              "total", "last_height"}
  mkt/a/ + kind "/" id     -> anchor (see `anchor_obj` in queries)
  mkt/v/ + dataset id      -> value {"paid", "contributors", "curators", "extracted", "burned",
                              "community", "validators", "payments", "returned": [[acct, n]]}
  mkt/total                -> the same totals federation-wide (without "returned")

Stakes are coins held by the market module account; the invariants check that it holds
exactly the bonded and unbonding stakes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...encoding import decode, encode
from .. import bank
from ..errors import NOT_FOUND, AppError
from ..state import State

LISTING, STAKES, QUEUE, PAYMENTS, ANCHOR, VALUE = (
    b"mkt/l/", b"mkt/s/", b"mkt/q/", b"mkt/p/", b"mkt/a/", b"mkt/v/")
TOTAL = b"mkt/total"
LISTED, DELISTED, SLASHED = "listed", "delisted", "slashed"
AGREEMENT, RECEIPT = "agreement", "receipt"
MAX_ID, MAX_REASON = 255, 512
MAX_UNBONDING_ENTRIES = 7  # per account and dataset (the SDK's max_entries)
VALUE_PARTS = ("paid", "contributors", "curators", "extracted", "burned", "community",
               "validators", "payments")


def account() -> bytes:
    return bank.module(bank.MARKET)


def b8(n: int) -> bytes:
    return n.to_bytes(8, "big")


@dataclass(frozen=True)
class Listing:
    dataset_id: str
    provider: bytes
    provider_did: str
    content_hash: bytes
    price: int
    contributors: tuple[tuple[bytes, int], ...]
    status: str
    since_height: int
    since_time: int

    def to_obj(self) -> dict[str, Any]:
        return {"dataset_id": self.dataset_id, "provider": self.provider,
                "provider_did": self.provider_did, "content_hash": self.content_hash,
                "price": self.price, "contributors": [[a, s] for a, s in self.contributors],
                "status": self.status, "since_height": self.since_height,
                "since_time": self.since_time}

    @classmethod
    def from_obj(cls, d: dict[str, Any]) -> Listing:
        return cls(**{**d, "contributors": tuple((a, s) for a, s in d["contributors"])})


def listing(state: State, dataset_id: str) -> Listing | None:
    raw = state.get(LISTING + dataset_id.encode())
    return None if raw is None else Listing.from_obj(decode(raw))


def must_listing(state: State, dataset_id: str) -> Listing:
    found = listing(state, dataset_id)
    if found is None:
        raise AppError(NOT_FOUND, f"dataset {dataset_id!r} is not listed on the market")
    return found


def put_listing(state: State, lst: Listing) -> None:
    state.set(LISTING + lst.dataset_id.encode(), encode(lst.to_obj()))


@dataclass
class Stakes:
    provider_bonded: int = 0
    curators: dict[bytes, int] = field(default_factory=dict)  # account -> bonded (> 0)
    unbonding: list[list[Any]] = field(default_factory=list)  # [account, amount, release]

    def bonded(self) -> int:
        return self.provider_bonded + sum(self.curators.values())

    def unbonding_total(self) -> int:
        return sum(e[1] for e in self.unbonding)

    def unbonding_of(self, acct: bytes) -> int:
        return sum(e[1] for e in self.unbonding if e[0] == acct)

    def to_obj(self) -> dict[str, Any]:
        return {"provider_bonded": self.provider_bonded,
                "curators": [[a, n] for a, n in sorted(self.curators.items())],
                "unbonding": [list(e) for e in self.unbonding]}


def stakes(state: State, dataset_id: str) -> Stakes:
    raw = state.get(STAKES + dataset_id.encode())
    if raw is None:
        return Stakes()
    d = decode(raw)
    return Stakes(d["provider_bonded"], {a: n for a, n in d["curators"]},
                  [list(e) for e in d["unbonding"]])


def put_stakes(state: State, dataset_id: str, s: Stakes) -> None:
    key = STAKES + dataset_id.encode()
    if s.bonded() == 0 and not s.unbonding:
        state.delete(key)
    else:
        state.set(key, encode(s.to_obj()))


def start_unbonding(state: State, dataset_id: str, s: Stakes, acct: bytes, amount: int,
                    release: int) -> None:
    """Queue `amount` of `acct`'s stake for return after block `release` (merged with an
    entry of the same account and release)."""
    if amount <= 0:
        return
    for e in s.unbonding:
        if e[0] == acct and e[2] == release:
            e[1] += amount
            break
    else:
        s.unbonding.append([acct, amount, release])
    state.set(QUEUE + b8(release) + dataset_id.encode(), encode(1))


def value(state: State, dataset_id: str | None) -> dict[str, Any]:
    """A dataset's value totals (None: federation-wide)."""
    raw = state.get(TOTAL if dataset_id is None else VALUE + dataset_id.encode())
    if raw is not None:
        return decode(raw)  # type: ignore[no-any-return]
    zero: dict[str, Any] = dict.fromkeys(VALUE_PARTS, 0)
    if dataset_id is not None:
        zero["returned"] = []
    return zero


def put_value(state: State, dataset_id: str | None, v: dict[str, Any]) -> None:
    state.set(TOTAL if dataset_id is None else VALUE + dataset_id.encode(), encode(v))
