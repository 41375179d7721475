"""Market queries: (the store key that proves the answer, the JSON-able answer). Every answer
but /market/listings reads single keys only, so the light client can prove it.

  /market/listing   data = dataset id   -> the listing with its stake totals
  /market/listings                      -> every listing (a list: not provable)
  /market/stakes    data = dataset id   -> the provider's and each curator's bonded and
                                           unbonding stake
  /market/payments  data = agreement id -> {"agreement_id", "dataset_id", "payer", "count",
                                           "total", "last_height"} (count 0: nothing paid)
  /market/anchor    data = KIND/ID      -> the anchor with its height and time
  /market/value     data = dataset id, or "" for the federation -> the value totals
  /market/params                        -> the market's parameters"""

from __future__ import annotations

from typing import Any

from ...encoding import decode
from .. import address
from ..errors import NOT_FOUND, UNKNOWN_REQUEST, AppError
from ..state import State
from ..wire import jsonable
from . import model
from .listings import anchor_key
from .model import LISTING, PAYMENTS, STAKES, TOTAL, VALUE, Listing, Stakes
from .params import MarketParams

Answer = tuple[bytes, dict[str, Any]]
PATHS = ("/market/listing", "/market/listings", "/market/stakes", "/market/payments",
         "/market/anchor", "/market/value", "/market/params")


def listing_obj(lst: Listing, s: Stakes) -> dict[str, Any]:
    return {"dataset_id": lst.dataset_id, "provider": address.to_text(lst.provider),
            "provider_did": lst.provider_did, "content_hash": lst.content_hash.hex(),
            "price": lst.price, "status": lst.status,
            "contributors": [{"account": address.to_text(a), "share": n}
                             for a, n in lst.contributors],
            "since": {"height": lst.since_height, "time": lst.since_time},
            "provider_stake": s.provider_bonded, "curator_stake": sum(s.curators.values()),
            "curators": len(s.curators), "unbonding": s.unbonding_total()}


def listing(state: State, dataset_id: str) -> Answer:
    lst = model.must_listing(state, dataset_id)
    return LISTING + dataset_id.encode(), listing_obj(lst, model.stakes(state, dataset_id))


def listings(state: State) -> Answer:
    found = [Listing.from_obj(decode(raw)) for _, raw in state.items(LISTING)]
    return LISTING, {"listings": [listing_obj(x, model.stakes(state, x.dataset_id))
                                  for x in found]}


def _unbonding(s: Stakes, acct: bytes) -> list[dict[str, int]]:
    return [{"amount": n, "release_height": r} for a, n, r in s.unbonding if a == acct]


def stakes(state: State, dataset_id: str) -> Answer:
    lst = model.must_listing(state, dataset_id)
    s = model.stakes(state, dataset_id)
    accounts = sorted(set(s.curators) | {e[0] for e in s.unbonding} - {lst.provider})
    return STAKES + dataset_id.encode(), {
        "dataset_id": dataset_id,
        "provider": {"account": address.to_text(lst.provider), "bonded": s.provider_bonded,
                     "unbonding": _unbonding(s, lst.provider)},
        "curators": [{"account": address.to_text(a), "bonded": s.curators.get(a, 0),
                      "unbonding": _unbonding(s, a)} for a in accounts],
        "bonded": s.bonded(), "unbonding": s.unbonding_total()}


def payments(state: State, agreement_id: str) -> Answer:
    key = PAYMENTS + agreement_id.encode()
    raw = state.get(key)
    if raw is None:  # an answer, not an error, so that "nothing paid yet" can be proven too
        return key, {"agreement_id": agreement_id, "dataset_id": None, "payer": None,
                     "count": 0, "total": 0, "last_height": None}
    return key, jsonable(decode(raw))  # type: ignore[no-any-return]


def anchor(state: State, arg: str) -> Answer:
    kind, _, id_ = arg.partition("/")
    key = anchor_key(kind, id_)
    raw = state.get(key)
    if raw is None:
        raise AppError(NOT_FOUND, f"no {kind[:16]} {id_[:255]!r} is anchored")
    return key, jsonable(decode(raw))  # type: ignore[no-any-return]


def value(state: State, dataset_id: str) -> Answer:
    if not dataset_id:
        return TOTAL, {"dataset_id": None, **model.value(state, None)}
    model.must_listing(state, dataset_id)
    v = model.value(state, dataset_id)
    v["returned"] = [{"account": address.to_text(a), "amount": n} for a, n in v["returned"]]
    return VALUE + dataset_id.encode(), {"dataset_id": dataset_id, **v}


def answer(state: State, path: str, data: bytes) -> Answer:
    arg = data.decode("utf-8", "replace")
    if path == "/market/listing":
        return listing(state, arg)
    if path == "/market/listings":
        return listings(state)
    if path == "/market/stakes":
        return stakes(state, arg)
    if path == "/market/payments":
        return payments(state, arg)
    if path == "/market/anchor":
        return anchor(state, arg)
    if path == "/market/value":
        return value(state, arg)
    if path == "/market/params":
        return MarketParams.key(), MarketParams.load(state).to_obj()
    raise AppError(UNKNOWN_REQUEST, f"unknown query path {path[:64]!r} "
                                    f"(known: {', '.join(PATHS)})")
