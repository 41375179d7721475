"""Invariants the state must keep after every block (the SDK's crisis checks):
  * supply: genesis + minted - burned == the sum of all balances (module accounts included);
  * balances are positive integers (zero balances are deleted, never stored negative);
  * each module's own (pools match stakes, rewards owed are held, deposits add up, the
    market's value identities...).
`problems` returns one sentence per broken invariant (empty: all hold)."""

from __future__ import annotations

from ..encoding import decode
from ..errors import DecodeError
from . import bank, distribution, gov, market, registry, slashing, staking
from .state import Reader, State


def problems(reader: Reader) -> list[str]:
    state = reader if isinstance(reader, State) else State(reader)
    out = []
    total = 0
    for key, raw in state.items(bank.BALANCE):
        try:
            v = decode(raw)
        except DecodeError:
            v = None
        if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
            out.append(f"balance of {key[len(bank.BALANCE):].hex()} is not a positive integer")
            continue
        total += v
    expected = bank.supply(state)
    if total != expected:
        out.append(f"supply invariant broken: genesis + minted - burned is {expected} ucom, "
                   f"the balances sum to {total} ucom")
    for module in (staking, slashing, distribution, gov, registry, market):
        out += module.problems(state)
    return out
