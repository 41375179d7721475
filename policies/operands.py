"""The evaluation context and the left operands that read it.

A left operand is a function of the `Context` (the state of the world the caller vouches
for: clock, requester, verified credential claims, usage counters, payments). The caller
builds the context from things it has verified; the policy never reaches out for data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from types import MappingProxyType

from policies import terms as T

_EMPTY: Mapping = MappingProxyType({})


def _empty() -> Mapping:
    return _EMPTY


class Scope(StrEnum):
    """Where a decision is taken; usage-phase operands are deferred before an agreement."""

    CATALOG = "catalog"  # who sees a dataset
    NEGOTIATION = "negotiation"  # may this requester get this agreement
    TRANSFER = "transfer"  # usage enforcement on each data access
    COMPUTE = "compute"  # usage enforcement on each algorithm run


PRE_AGREEMENT = frozenset({Scope.CATALOG, Scope.NEGOTIATION})


class DutyState(StrEnum):
    FULFILLED = "fulfilled"
    VIOLATED = "violated"
    NOT_SET = "not-set"


class DutyMode(StrEnum):
    """When must a permission's duty be fulfilled (ODRL 2.2 leaves the timing open)?

    PRECONDITION: before the permission is exercised (ODRL 2.2 IM: duties "MUST be fulfilled
    in order for the Permission to be valid"; the W3C formal-semantics examples C1/C2).
    EVENTUAL: a duty not yet fulfilled is returned as due and only a violated duty denies
    (the SolidLab suite, "given that eventually the duty is fulfilled").
    A duty constrained with `event lt policyUsage` is always a precondition and one with
    `event gt policyUsage` always eventual, whatever the mode.
    """

    PRECONDITION = "precondition"
    EVENTUAL = "eventual"


@dataclass(frozen=True, slots=True)
class Payment:
    amount: Decimal
    currency: str | None = None  # IRI of the unit, e.g. http://dbpedia.org/resource/Euro
    duty: str | None = None  # uid of the duty it pays for, when known
    payer: str | None = None


@dataclass(frozen=True, slots=True)
class Context:
    """What the caller knows and has verified at decision time."""

    now: datetime
    requester: str | None = None  # DID / IRI of the requesting party
    claims: Mapping[str, frozenset[str]] = field(default_factory=_empty)  # verified claims by name
    purpose: str | None = None
    spatial: str | None = None
    recipient: str | None = None
    event: str | None = None
    count: int = 0  # prior exercises of the action under this agreement
    agreement_time: datetime | None = None
    payment: Payment | None = None
    values: Mapping[str, object] = field(default_factory=_empty)  # other left operands, by IRI
    part_of: Mapping[str, frozenset[str]] = field(default_factory=_empty)  # x -> collections of x
    duty_states: Mapping[str, DutyState] = field(default_factory=_empty)  # duty uid -> state
    scope: Scope = Scope.TRANSFER
    duty_mode: DutyMode = DutyMode.PRECONDITION


class Missing(Enum):
    MISSING = "missing"
    DEFERRED = "deferred"


MISSING = Missing.MISSING
DEFERRED = Missing.DEFERRED


class Kind(StrEnum):
    """How a left operand's value compares (and how untyped right operands are read)."""

    DATETIME = "dateTime"
    ELAPSED = "elapsed"  # since the agreement; compared with xsd:duration
    NUMBER = "number"
    TERM = "term"  # IRI or string, single or a set
    ANY = "any"  # unknown operand with a caller-supplied value


@dataclass(frozen=True, slots=True)
class Elapsed:
    start: datetime
    now: datetime


def utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def closure(ctx: Context, item: str) -> frozenset[str]:
    """ITEM and every collection it is (transitively) part of, per `ctx.part_of`."""
    direct = ctx.part_of.get(item)
    if not direct:
        return frozenset((item,))
    seen = {item}
    todo = list(direct)
    while todo:
        nxt = todo.pop()
        if nxt not in seen:
            seen.add(nxt)
            todo.extend(ctx.part_of.get(nxt, ()))
    return frozenset(seen)


def _datetime(ctx: Context) -> object:
    return utc(ctx.now)


def _elapsed(ctx: Context) -> object:
    if ctx.agreement_time is None:
        return DEFERRED if ctx.scope in PRE_AGREEMENT else MISSING
    return Elapsed(utc(ctx.agreement_time), utc(ctx.now))


def _count(ctx: Context) -> object:
    # The exercise being decided is the (count + 1)-th: "count lteq 10" allows ten uses.
    return DEFERRED if ctx.scope in PRE_AGREEMENT else Decimal(ctx.count + 1)


def _pay_amount(ctx: Context) -> object:
    if ctx.payment is None:
        return DEFERRED if ctx.scope in PRE_AGREEMENT else MISSING
    return ctx.payment.amount


def _opt(value: object) -> object:
    return MISSING if value is None else value


def _usage(iri: str, convert: Callable[[object], object] = _opt) -> Callable[[Context], object]:
    """A value only a run provides (compute): deferred before an agreement, as odrl:count."""

    def read(ctx: Context) -> object:
        value = ctx.values.get(iri)
        if value is None and ctx.scope in PRE_AGREEMENT:
            return DEFERRED
        return convert(value)

    return read


def _claim(name: str) -> Callable[[Context], object]:
    def read(ctx: Context) -> object:
        values = ctx.claims.get(name)
        return MISSING if values is None else frozenset(values)

    return read


@dataclass(frozen=True, slots=True)
class LeftOperand:
    iri: str
    kind: Kind
    read: Callable[[Context], object]
    doc: str


def _builtins() -> dict[str, LeftOperand]:
    items = [
        LeftOperand(T.odrl("dateTime"), Kind.DATETIME, _datetime, "the decision time (ctx.now)"),
        LeftOperand(T.odrl("elapsedTime"), Kind.ELAPSED, _elapsed, "time since the agreement"),
        LeftOperand(T.odrl("count"), Kind.NUMBER, _count, "this exercise's ordinal (prior + 1)"),
        LeftOperand(T.odrl("payAmount"), Kind.NUMBER, _pay_amount, "the amount paid"),
        LeftOperand(T.odrl("purpose"), Kind.TERM, lambda c: _opt(c.purpose), "declared purpose"),
        LeftOperand(
            T.odrl("recipient"),
            Kind.TERM,
            lambda c: _opt(c.recipient or c.requester),
            "the receiving party (default: the requester)",
        ),
        LeftOperand(T.odrl("spatial"), Kind.TERM, lambda c: _opt(c.spatial), "where it is used"),
        LeftOperand(T.odrl("event"), Kind.TERM, lambda c: _opt(c.event), "the current event"),
        LeftOperand(
            T.communs("membership"),
            Kind.TERM,
            _claim("membership"),
            "issuers of the requester's verified MembershipCredentials",
        ),
        LeftOperand(T.communs("role"), Kind.TERM, _claim("role"), "requester's verified roles"),
        LeftOperand(
            T.communs("country"),
            Kind.TERM,
            _claim("country"),
            "requester's verified country (ISO 3166-1 alpha-2 or ISO 3166-2)",
        ),
        LeftOperand(
            T.communs("algorithm"),
            Kind.TERM,
            _usage(T.communs("algorithm")),
            "hash of the algorithm to run (compute)",
        ),
        LeftOperand(
            T.communs("outputSize"),
            Kind.NUMBER,
            _usage(T.communs("outputSize"), _number),
            "size in bytes of the result leaving the provider (compute)",
        ),
        LeftOperand(
            T.communs("algorithmPublisher"),
            Kind.TERM,
            _usage(T.communs("algorithmPublisher")),
            "DID whose verified signature covers the algorithm's hash (compute)",
        ),
        LeftOperand(
            T.communs("release"),
            Kind.TERM,
            _usage(T.communs("release")),
            "how the result leaves: communs:manual (a person releases it) or communs:automatic",
        ),
    ]
    return {item.iri: item for item in items}


def _number(value: object) -> object:
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return MISSING
    if isinstance(value, int | Decimal):
        return Decimal(value)
    return MISSING


BUILTIN: Mapping[str, LeftOperand] = MappingProxyType(_builtins())
ELAPSED_LIKE = frozenset({T.odrl("elapsedTime"), T.odrl("meteredTime")})


def normalize(value: object) -> object:
    """A caller-supplied value in the evaluator's comparison types."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, set | frozenset | list | tuple):
        return frozenset(str(v) for v in value)
    return value


def reader(iri: str) -> LeftOperand:
    """The left operand for IRI: a builtin, else one read from `ctx.values` at decision time."""
    builtin = BUILTIN.get(iri)
    if builtin is not None:
        return builtin

    def read(ctx: Context) -> object:
        value = ctx.values.get(iri, MISSING)
        return value if value is MISSING else normalize(value)

    return LeftOperand(iri, Kind.ANY, read, "unknown to communs: needs ctx.values[iri]")
