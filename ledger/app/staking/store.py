"""Staking's records and where they live (all keys under b"stk/", fixed-width parts so that a
prefix iterates in a useful order):

  stk/v/  operator(20)                          -> validator (encode of Validator.to_obj())
  stk/c/  consensus address(20)                 -> operator
  stk/d/  delegator(20) operator(20)            -> shares (int, scaled by DEC)
  stk/dv/ operator(20) delegator(20)            -> b"" (a validator's delegators)
  stk/u/  delegator(20) operator(20)            -> unbonding entries [[height, completion ms,
                                                   initial, balance], ...]
  stk/uv/ operator(20) delegator(20)            -> b"" (a validator's unbonding delegations)
  stk/uq/ completion(8) delegator(20) operator(20) -> b"" (unbonding queue)
  stk/r/  delegator(20) src(20) dst(20)         -> redelegation entries [[height, completion,
                                                   initial, shares_dst], ...]
  stk/rv/ src(20) delegator(20) dst(20)         -> b"" (redelegations away from a validator)
  stk/rq/ completion(8) delegator(20) src(20) dst(20) -> b"" (redelegation queue)
  stk/ri/ delegator(20) dst(20)                 -> how many sources have immature
                                                   redelegations of this delegator into dst
  stk/vq/ completion(8) operator(20)            -> b"" (validators unbonding)
  stk/last/ operator(20)                        -> power last sent to consensus (int)

Shares are integers scaled by DEC = 10^18: a first delegation of T ucom mints T * DEC shares,
so that exchange-rate rounding loses at most 10^-18 of a ucom per operation."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ...encoding import decode, encode
from .. import address
from ..errors import NOT_FOUND, AppError
from ..state import State

DEC = 10**18
POWER_REDUCTION = 10**6  # ucom per unit of consensus power (the SDK's PowerReduction)
BONDED, UNBONDING, UNBONDED = "bonded", "unbonding", "unbonded"

VALIDATOR, CONS, DELEGATION, DEL_BY_VAL = b"stk/v/", b"stk/c/", b"stk/d/", b"stk/dv/"
UNBONDING_ENTRIES, UBD_BY_VAL, UBD_QUEUE = b"stk/u/", b"stk/uv/", b"stk/uq/"
REDELEGATION, RED_BY_SRC, RED_QUEUE, RED_INTO = b"stk/r/", b"stk/rv/", b"stk/rq/", b"stk/ri/"
VAL_QUEUE, LAST_POWER = b"stk/vq/", b"stk/last/"


def b8(n: int) -> bytes:
    return n.to_bytes(8, "big")


@dataclass(frozen=True)
class Validator:
    operator: bytes  # the operator's account address
    pub_key: bytes  # consensus Ed25519 public key (32 bytes)
    tokens: int  # ucom bonded to it (self-bond and delegations, less slashes)
    delegator_shares: int  # sum of its delegations' shares (scaled by DEC)
    commission_ppm: int
    max_commission_ppm: int
    max_change_ppm: int  # most the rate may move in one change (at most one per day)
    commission_time: int  # ms of the last commission change
    moniker: str
    status: str = UNBONDED
    jailed: bool = False
    tombstoned: bool = False
    unbonding_height: int = 0
    unbonding_time: int = 0  # ms at which an unbonding validator becomes unbonded

    @property
    def cons_address(self) -> bytes:
        return address.of_pub_key(self.pub_key)

    @property
    def power(self) -> int:
        return self.tokens // POWER_REDUCTION

    def tokens_of(self, shares: int) -> int:
        """What `shares` are worth, truncated (never more than exists)."""
        return 0 if self.delegator_shares == 0 else shares * self.tokens // self.delegator_shares

    def to_obj(self) -> dict[str, Any]:
        return {"operator": self.operator, "pub_key": self.pub_key, "tokens": self.tokens,
                "delegator_shares": self.delegator_shares, "commission_ppm": self.commission_ppm,
                "max_commission_ppm": self.max_commission_ppm,
                "max_change_ppm": self.max_change_ppm, "commission_time": self.commission_time,
                "moniker": self.moniker, "status": self.status, "jailed": self.jailed,
                "tombstoned": self.tombstoned, "unbonding_height": self.unbonding_height,
                "unbonding_time": self.unbonding_time}

    @classmethod
    def from_obj(cls, d: dict[str, Any]) -> Validator:
        return cls(**d)

    def with_(self, **changes: Any) -> Validator:
        return replace(self, **changes)


_DECODED: dict[bytes, Validator] = {}


def _decoded(raw: bytes) -> Validator:
    """Validators are read several times per message: the same bytes give the same (frozen)
    value without decoding again."""
    v = _DECODED.get(raw)
    if v is None:
        if len(_DECODED) >= 4096:
            _DECODED.clear()
        v = _DECODED[raw] = Validator.from_obj(decode(raw))
    return v


def get_validator(state: State, operator: bytes) -> Validator | None:
    raw = state.get(VALIDATOR + operator)
    return None if raw is None else _decoded(raw)


def must_validator(state: State, operator: bytes) -> Validator:
    v = get_validator(state, operator)
    if v is None:
        raise AppError(NOT_FOUND, f"{address.to_text(operator)} is not a validator")
    return v


def set_validator(state: State, v: Validator) -> None:
    state.set(VALIDATOR + v.operator, encode(v.to_obj()))


def all_validators(state: State) -> list[Validator]:
    return [_decoded(raw) for _, raw in state.items(VALIDATOR)]


def by_cons(state: State, cons: bytes) -> Validator | None:
    op = state.get(CONS + cons)
    return None if op is None else get_validator(state, op)


# ----------------------------------------------------------------- delegations

def shares(state: State, delegator: bytes, operator: bytes) -> int:
    return state.get_int(DELEGATION + delegator + operator)


def set_shares(state: State, delegator: bytes, operator: bytes, n: int) -> None:
    state.set_int(DELEGATION + delegator + operator, n)
    if n:
        state.set(DEL_BY_VAL + operator + delegator, b"")
    else:
        state.delete(DEL_BY_VAL + operator + delegator)


def delegations_of(state: State, delegator: bytes) -> list[tuple[bytes, int]]:
    n = len(DELEGATION) + 20
    return [(k[n:], decode(v)) for k, v in state.items(DELEGATION + delegator)]


def delegators_of(state: State, operator: bytes) -> list[bytes]:
    n = len(DEL_BY_VAL) + 20
    return [k[n:] for k, _ in state.items(DEL_BY_VAL + operator)]


# ------------------------------------------------------------ unbonding entries

Entry = list[int]  # [creation height, completion ms, initial balance, balance or shares_dst]


def entries(state: State, key: bytes) -> list[Entry]:
    raw = state.get(key)
    return [] if raw is None else list(decode(raw))


def set_entries(state: State, key: bytes, es: list[Entry]) -> None:
    if es:
        state.set(key, encode(es))
    else:
        state.delete(key)


def ubd_key(delegator: bytes, operator: bytes) -> bytes:
    return UNBONDING_ENTRIES + delegator + operator


def red_key(delegator: bytes, src: bytes, dst: bytes) -> bytes:
    return REDELEGATION + delegator + src + dst
