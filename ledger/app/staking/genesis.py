"""The "staking" genesis section: parameters and the founding validators, each bonded from its
operator's genesis balance (balances are loaded first):

  {"params": {...}, "validators": [{"operator": "com1...", "pub_key": "<64 hex>",
   "self_bond": int ucom, "commission_ppm": int, "moniker": str}, ...]}

Founding validators may raise their commission up to 100% by steps of 1% a day (the commonest
choice on Cosmos chains: max rate 1.0, max change 0.01). The bonded set computed from them is
InitChain's answer."""

from __future__ import annotations

from typing import Any

from ...abci import ValidatorUpdate
from .. import address
from ..blockctx import BlockContext
from ..errors import INVALID_REQUEST, AppError
from ..params import PPM
from ..state import State
from . import endblock, handlers
from .params import StakingParams
from .store import CONS, Validator, get_validator

FIELDS = {"operator", "pub_key", "self_bond", "commission_ppm", "moniker"}


def _fail(msg: str) -> AppError:
    return AppError(INVALID_REQUEST, f"genesis staking: {msg}")


def _validator(i: int, d: Any, ctx: BlockContext) -> tuple[Validator, int]:
    if not isinstance(d, dict) or set(d) != FIELDS:
        raise _fail(f"validator {i} has exactly the fields {', '.join(sorted(FIELDS))}")
    try:
        op = address.parse(d["operator"]) if isinstance(d["operator"], str) else b""
    except AppError as e:
        raise _fail(f"validator {i}: {e}") from e
    if len(op) != address.ADDRESS_SIZE:
        raise _fail(f"validator {i}: operator must be a com1... address")
    try:
        pub = bytes.fromhex(d["pub_key"]) if isinstance(d["pub_key"], str) else b""
    except ValueError:
        pub = b""
    if len(pub) != 32:
        raise _fail(f"validator {i}: pub_key must be 64 hex digits (an Ed25519 key)")
    bond, rate, moniker = d["self_bond"], d["commission_ppm"], d["moniker"]
    if not isinstance(bond, int) or isinstance(bond, bool) or bond <= 0:
        raise _fail(f"validator {i}: self_bond must be a positive integer of ucom")
    if not isinstance(rate, int) or isinstance(rate, bool) or not 0 <= rate <= PPM:
        raise _fail(f"validator {i}: commission_ppm must be an integer from 0 to {PPM}")
    if not isinstance(moniker, str) or not moniker.strip() or len(moniker) > 70:
        raise _fail(f"validator {i}: moniker must be 1 to 70 characters")
    return Validator(op, pub, 0, 0, rate, PPM, 10_000, ctx.time, moniker), bond


def genesis(state: State, section: Any, ctx: BlockContext) -> list[ValidatorUpdate]:
    section = section or {}
    if not isinstance(section, dict) or set(section) - {"params", "validators"}:
        raise _fail("the section is {\"params\": {...}, \"validators\": [...]}")
    try:
        p = StakingParams.from_obj(section.get("params") or {})
    except AppError as e:
        raise _fail(str(e)) from e
    p.save(state)
    vals = section.get("validators") or []
    if not isinstance(vals, list):
        raise _fail("validators must be a list")
    for i, d in enumerate(vals):
        v, bond = _validator(i, d, ctx)
        if get_validator(state, v.operator) is not None:
            raise _fail(f"validator {i}: {d['operator']} appears twice")
        if state.get(CONS + v.cons_address) is not None:
            raise _fail(f"validator {i}: its pub_key is used twice")
        if v.commission_ppm < p.min_commission_ppm:
            raise _fail(f"validator {i}: commission_ppm is below the minimum "
                        f"{p.min_commission_ppm}")
        try:
            handlers.create(state, ctx, v, bond)
        except AppError as e:
            raise _fail(f"validator {i}: {e}") from e
    updates, _ = endblock.apply_set(state, ctx)
    return updates
