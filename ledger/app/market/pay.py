"""A payment for one use of a listed dataset under an agreement, and its split (all integer,
exact to the unit: the parts always sum to the amount):

  extracted    = amount * extraction_bps // 10000
    burned     = extracted * burn_bps // 10000          (burned from the supply)
    validators = extracted * validators_bps // 10000    (to the fee collector: shared like fees)
    community  = extracted - burned - validators        (to the community pool: the remainders)
  curators     = (amount - extracted) * curator_bps // 10000, when the dataset has curator
                 stake: each curator floor(pool * stake / all stake); their dust goes on to
  contributors = amount - extracted - what curators got: each floor(pool * share / all
                 shares), the remainder to the first contributor of the listing"""

from __future__ import annotations

from typing import Any

from ...abci import Event
from ...encoding import decode, encode
from .. import address, bank
from ..blockctx import BlockContext
from ..errors import INVALID_REQUEST, AppError
from ..msgs import Msg
from ..state import State
from . import model
from . import params as mparams
from .model import LISTED, PAYMENTS
from .msgs import MsgPay
from .params import BPS, MarketParams

Shares = list[tuple[bytes, int]]


def pro_rata(pool: int, weights: Shares) -> Shares:
    """`pool` shared by weight, each part rounded down (their sum may fall short of pool)."""
    total = sum(w for _, w in weights)
    return [(a, pool * w // total) for a, w in weights] if total else []


def split(amount: int, p: MarketParams, contributors: Shares,
          curators: Shares) -> dict[str, Any]:
    """The parts of a payment: {"extracted", "burned", "community", "validators",
    "curators": [(account, n)], "contributors": [(account, n)]}."""
    extracted = amount * p.extraction_bps // BPS
    burned = extracted * p.burn_bps // BPS
    validators = extracted * p.validators_bps // BPS
    rest = amount - extracted
    to_curators = pro_rata(rest * p.curator_bps // BPS, curators)
    pool = rest - sum(n for _, n in to_curators)
    to_contributors = pro_rata(pool, contributors)
    first, n = to_contributors[0]
    to_contributors[0] = (first, n + pool - sum(n for _, n in to_contributors))
    return {"extracted": extracted, "burned": burned, "validators": validators,
            "community": extracted - burned - validators, "curators": to_curators,
            "contributors": to_contributors}


def _add(v: dict[str, Any], amount: int, parts: dict[str, Any], per_account: bool) -> None:
    v["paid"] += amount
    v["payments"] += 1
    for k in ("extracted", "burned", "community", "validators"):
        v[k] += parts[k]
    v["contributors"] += sum(n for _, n in parts["contributors"])
    v["curators"] += sum(n for _, n in parts["curators"])
    if per_account:
        returned = dict((a, n) for a, n in v["returned"])
        for a, n in parts["contributors"] + parts["curators"]:
            returned[a] = returned.get(a, 0) + n
        v["returned"] = [[a, n] for a, n in sorted(returned.items()) if n]


def _check_agreement(state: State, m: MsgPay) -> dict[str, Any]:
    raw = state.get(PAYMENTS + m.agreement_id.encode())
    if raw is None:
        return {"agreement_id": m.agreement_id, "dataset_id": m.dataset_id, "payer": m.payer,
                "count": 0, "total": 0, "last_height": 0}
    rec: dict[str, Any] = decode(raw)
    if rec["payer"] != m.payer:
        raise AppError(INVALID_REQUEST, f"agreement {m.agreement_id!r} is paid by another "
                                        f"account")
    if rec["dataset_id"] != m.dataset_id:
        raise AppError(INVALID_REQUEST, f"agreement {m.agreement_id!r} is paid for another "
                                        f"dataset")
    return rec


def handle_pay(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgPay)
    lst = model.must_listing(state, m.dataset_id)
    if lst.status != LISTED:
        raise AppError(INVALID_REQUEST, f"dataset {m.dataset_id!r} is {lst.status}: it takes "
                                        f"no payments")
    if m.amount != lst.price:
        raise AppError(INVALID_REQUEST, f"the listing asks {lst.price} ucom per use, this "
                                        f"payment is {m.amount}")
    rec = _check_agreement(state, m)
    s = model.stakes(state, m.dataset_id)
    parts = split(m.amount, mparams.load(state), list(lst.contributors),
                  sorted(s.curators.items()))
    events: list[Event] = []
    for acct, n in parts["contributors"] + parts["curators"]:
        events += bank.transfer(state, m.payer, acct, n)
    events += bank.transfer(state, m.payer, bank.module(bank.COMMUNITY_POOL), parts["community"])
    events += bank.transfer(state, m.payer, bank.module(bank.FEE_COLLECTOR), parts["validators"])
    events += bank.transfer(state, m.payer, model.account(), parts["burned"])
    events += bank.burn(state, bank.MARKET, parts["burned"])
    rec.update(count=rec["count"] + 1, total=rec["total"] + m.amount, last_height=ctx.height)
    state.set(PAYMENTS + m.agreement_id.encode(), encode(rec))
    for dataset_id, per_account in ((m.dataset_id, True), (None, False)):
        v = model.value(state, dataset_id)
        _add(v, m.amount, parts, per_account)
        model.put_value(state, dataset_id, v)
    events.append(bank.event(
        "market_payment", dataset_id=m.dataset_id, agreement_id=m.agreement_id,
        payer=address.to_text(m.payer), amount=bank.coins(m.amount), use=str(rec["count"]),
        contributors=bank.coins(sum(n for _, n in parts["contributors"])),
        curators=bank.coins(sum(n for _, n in parts["curators"])),
        extracted=bank.coins(parts["extracted"]), burned=bank.coins(parts["burned"]),
        community=bank.coins(parts["community"]), validators=bank.coins(parts["validators"])))
    events += [bank.event("market_share", dataset_id=m.dataset_id, role=role,
                          account=address.to_text(a), amount=bank.coins(n))
               for role in ("contributors", "curators") for a, n in parts[role]]
    return events
