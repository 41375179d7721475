"""Balances of the native token, total supply, transfers, minting and burning, and module
accounts (as the SDK's x/bank with one denomination, ucom).

Store layout: b"bal/" + address -> encode(int > 0) (absent = 0; never negative);
b"supply" -> encode({"genesis": int, "minted": int, "burned": int}) (one key, so one proof
answers a supply query). Total supply is genesis + minted - burned, and always equals the sum
of all balances (see invariants)."""

from __future__ import annotations

from ..abci import Event, EventAttribute
from ..encoding import decode, encode
from . import address
from .errors import INSUFFICIENT_FUNDS, INVALID_REQUEST, UNAUTHORIZED, AppError
from .params import DENOM
from .state import State

BALANCE = b"bal/"
SUPPLY = b"supply"

FEE_COLLECTOR, BONDED_POOL, NOT_BONDED_POOL, COMMUNITY_POOL, GOV, DISTRIBUTION, MINT, MARKET = (
    "fee_collector", "bonded_pool", "not_bonded_pool", "community_pool", "gov", "distribution",
    "mint", "market")
MODULES = (FEE_COLLECTOR, BONDED_POOL, NOT_BONDED_POOL, COMMUNITY_POOL, GOV, DISTRIBUTION, MINT,
           MARKET)
MODULE_ADDRESSES = {address.module_address(m): m for m in MODULES}


def module(name: str) -> bytes:
    assert name in MODULES, name
    return address.module_address(name)


def coins(amount: int) -> str:
    """An amount as event attributes write it (the SDK's coin string)."""
    return f"{amount}{DENOM}"


def shown(amount: int) -> str:
    """An amount as a sentence for people writes it."""
    return f"{amount} {DENOM}"


def event(kind: str, **attrs: str) -> Event:
    return Event(kind, tuple([EventAttribute(k, v) for k, v in attrs.items()]))


def balance(state: State, addr: bytes) -> int:
    return state.get_int(BALANCE + addr)


def supply_parts(state: State) -> dict[str, int]:
    raw = state.get(SUPPLY)
    return {"genesis": 0, "minted": 0, "burned": 0} if raw is None else decode(raw)


def supply(state: State) -> int:
    p = supply_parts(state)
    return p["genesis"] + p["minted"] - p["burned"]


def _count(state: State, part: str, amount: int) -> None:
    p = supply_parts(state)
    p[part] += amount
    state.set(SUPPLY, encode(p))


def _debit(state: State, addr: bytes, amount: int) -> None:
    have = balance(state, addr)
    if have < amount:
        raise AppError(INSUFFICIENT_FUNDS, f"insufficient funds: {address.to_text(addr)} has "
                                           f"{shown(have)}, needs {shown(amount)}")
    state.set_int(BALANCE + addr, have - amount)


def reserve(state: State, addr: bytes, amount: int) -> None:
    """Take coins from an account and credit no one: only for CheckTx's state, which is
    thrown away at every commit (it breaks the supply identity on purpose)."""
    _debit(state, addr, amount)


def _credit(state: State, addr: bytes, amount: int) -> None:
    state.set_int(BALANCE + addr, balance(state, addr) + amount)


def transfer(state: State, sender: bytes, recipient: bytes, amount: int) -> list[Event]:
    """Move coins between any two accounts (module accounts included: for internal use)."""
    if amount < 0:
        raise AppError(INVALID_REQUEST, "an amount cannot be negative")
    if amount == 0:
        return []
    _debit(state, sender, amount)
    _credit(state, recipient, amount)
    s, r, a = address.to_text(sender), address.to_text(recipient), coins(amount)
    return [event("coin_spent", spender=s, amount=a), event("coin_received", receiver=r, amount=a),
            event("transfer", recipient=r, sender=s, amount=a)]


def check_recipient(recipient: bytes) -> None:
    """Ordinary sends never credit a module account (the SDK's blocked addresses)."""
    if recipient in MODULE_ADDRESSES:
        raise AppError(UNAUTHORIZED, f"{address.to_text(recipient)} is a module account "
                                     f"({MODULE_ADDRESSES[recipient]}) and cannot receive sends")


def send(state: State, sender: bytes, recipient: bytes, amount: int) -> list[Event]:
    check_recipient(recipient)
    return transfer(state, sender, recipient, amount)


def multi_send(state: State, sender: bytes, amount: int,
               outputs: tuple[tuple[bytes, int], ...]) -> list[Event]:
    for r, _ in outputs:
        check_recipient(r)
    _debit(state, sender, amount)
    s = address.to_text(sender)
    events = [event("coin_spent", spender=s, amount=coins(amount))]
    for r, n in outputs:
        _credit(state, r, n)
        rt = address.to_text(r)
        events += [event("coin_received", receiver=rt, amount=coins(n)),
                   event("transfer", recipient=rt, sender=s, amount=coins(n))]
    return events


def mint(state: State, module_name: str, amount: int) -> list[Event]:
    """New coins into a module account (x/mint's use; counted in supply/minted)."""
    if amount <= 0:
        return []
    m = module(module_name)
    _credit(state, m, amount)
    _count(state, "minted", amount)
    mt = address.to_text(m)
    return [event("coinbase", minter=mt, amount=coins(amount)),
            event("coin_received", receiver=mt, amount=coins(amount))]


def burn(state: State, module_name: str, amount: int) -> list[Event]:
    """Destroy coins held by a module account (counted in supply/burned)."""
    if amount <= 0:
        return []
    m = module(module_name)
    _debit(state, m, amount)
    _count(state, "burned", amount)
    mt = address.to_text(m)
    return [event("coin_spent", spender=mt, amount=coins(amount)),
            event("burn", burner=mt, amount=coins(amount))]
