"""The genesis app state (the `app_state` of the genesis document, JSON) -> the initial state.

  {"params": {...overrides of the defaults...},
   "balances": {"com1...": amount, ...},            amount: integer ucom or its decimal text
   "reward_accounts": {"<consensus address, hex>": "com1...", ...}}

Every field is optional; anything wrong is refused with one sentence naming it."""

from __future__ import annotations

from typing import Any

from ..encoding import encode
from . import address, bank, fees, params
from .errors import INVALID_REQUEST, AppError
from .state import State

SECTIONS = ("params", "balances", "reward_accounts")
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


def load(app_state: Any, state: State, initial_height: int = 1) -> None:
    """Write the initial state into `state`, or raise AppError naming the first problem."""
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
    rewards = app_state.get("reward_accounts") or {}
    if not isinstance(rewards, dict):
        raise _fail("reward_accounts must map consensus addresses (hex) to accounts")
    for cons_hex in sorted(rewards):
        try:
            cons = bytes.fromhex(cons_hex)
        except ValueError:
            cons = b""
        if len(cons) != address.ADDRESS_SIZE:
            raise _fail(f"reward_accounts key {cons_hex[:64]!r} is not a 20-byte hex address")
        acct = _addr(rewards[cons_hex], f"the reward account of {cons_hex}")
        if acct in bank.MODULE_ADDRESSES:
            raise _fail(f"the reward account of {cons_hex} is a module account")
        state.set(fees.REWARD_ACCOUNT + cons, acct)
    state.set(GENESIS_VERSION, encode(initial_height - 1))
