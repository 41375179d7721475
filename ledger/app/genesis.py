"""The genesis app state (the `app_state` of the genesis document, JSON) -> the initial state
and the validator set it bonds.

  {"params": {...overrides of the defaults...},
   "balances": {"com1...": amount, ...},            amount: integer ucom or its decimal text
   "mint" | "distribution" | "slashing" | "gov": {"params": {...}},
   "staking": {"params": {...}, "validators": [...]},   bonded from the balances above
   "registry": {"members": [...], "trust_anchors": [...]},
   "market": {"params": {...}}}

Every field is optional; anything wrong is refused with one sentence naming it. Sections are
loaded in that order (staking bonds coins that the balances hold)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..abci import ValidatorUpdate
from ..encoding import encode
from . import address, bank, distribution, gov, market, mint, params, registry, slashing, staking
from .blockctx import BlockContext
from .errors import INVALID_REQUEST, AppError
from .state import State

SECTIONS = ("params", "balances", "mint", "distribution", "slashing", "staking", "gov",
            "registry", "market")
GENESIS_VERSION = b"meta/genesis_version"


def _fail(msg: str) -> AppError:
    return AppError(INVALID_REQUEST, f"genesis app_state: {msg}")


def _amount(v: Any, who: str) -> int:
    if isinstance(v, str) and v.isdigit() and v.isascii():
        v = int(v)
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise _fail(f"the balance of {who} must be a non-negative integer of ucom")
    return v


def _addr(v: Any, where: str) -> bytes:
    if not isinstance(v, str):
        raise _fail(f"{where} must be a com1... address")
    try:
        return address.parse(v)
    except AppError as e:
        raise _fail(f"{where}: {e}") from e


def load(app_state: Any, state: State, block: BlockContext) -> list[ValidatorUpdate]:
    """Write the initial state into `state` and return the bonded validators, or raise
    AppError naming the first problem (`block`: the initial height, genesis time, chain id)."""
    if app_state is None:
        app_state = {}
    if not isinstance(app_state, dict):
        raise _fail("must be an object")
    for k in sorted(app_state):
        if k not in SECTIONS:
            raise _fail(f"unknown section {k!r} (known: {', '.join(SECTIONS)})")
    try:
        p = params.Params.from_obj(app_state.get("params") or {})
    except AppError as e:
        raise _fail(str(e)) from e
    params.save(state, p)
    balances = app_state.get("balances") or {}
    if not isinstance(balances, dict):
        raise _fail("balances must map addresses to amounts")
    total = 0
    for text in sorted(balances):
        addr = _addr(text, f"balances key {text[:64]!r}")
        if bank.balance(state, addr):
            raise _fail(f"{text} appears twice in balances")
        amount = _amount(balances[text], text)
        state.set_int(bank.BALANCE + addr, amount)
        total += amount
    state.set(bank.SUPPLY, encode({"genesis": total, "minted": 0, "burned": 0}))

    def section(name: str, load_section: Callable[[State, Any, BlockContext], Any]) -> Any:
        try:
            return load_section(state, app_state.get(name), block)
        except AppError as e:
            said = str(e).removeprefix("genesis ")
            raise _fail(said if said.startswith(name) else f"{name}: {said}") from e

    section("mint", mint.genesis)
    section("distribution", distribution.genesis)
    section("slashing", slashing.genesis)
    updates: list[ValidatorUpdate] = section("staking", staking.genesis)
    section("gov", gov.genesis)
    section("registry", registry.genesis)
    section("market", market.genesis)
    state.set(GENESIS_VERSION, encode(block.height - 1))
    return updates
