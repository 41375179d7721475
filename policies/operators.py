"""The operators of the ODRL core vocabulary, over typed values.

Right operands are read once (at compile time) into Python values; a comparison that makes
no sense (a dateTime against a number, `lt` on two IRIs) yields None: "unevaluable", which
the evaluator turns into a denial with a reason, never into a silent pass.

Set semantics, for a left operand with several values (roles, memberships) L and right
operands R: eq r = some value of L is r; neq r = no value of L is r; isAnyOf = L and R
meet; isNoneOf = they do not; isAllOf = every r is in L; hasPart = every r is in L (or a
part of it); isPartOf = every value of L is in R or part of a member of R.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from policies import terms as T
from policies.literals import (
    DateInterval,
    Duration,
    LexicalError,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_duration,
    parse_typed,
)
from policies.model import Operand, Ref
from policies.operands import Context, Elapsed, Kind, closure

UNORDERED = 2  # equal-or-not only: two different strings, IRIs or booleans

Test = Callable[[object, Context], bool | None]


def read_right(kind: Kind, operand: Operand) -> object:
    """The Python value of a right operand for a left operand of KIND; LexicalError if none."""
    if isinstance(operand, Ref):
        if kind in (Kind.TERM, Kind.ANY):
            return operand.iri
        raise LexicalError(f"the IRI <{operand.iri}> is not a {kind.value} value")
    value, datatype = operand.value, operand.datatype
    untyped = datatype is None or datatype in (T.XSD + "string",)
    if kind is Kind.DATETIME:
        if untyped:
            try:
                return parse_datetime(value, lenient=True)  # untyped: ISO 8601 hh:mm is fine
            except LexicalError:
                return parse_date(value)
        result = parse_typed(value, datatype)
        if not isinstance(result, datetime | DateInterval):
            raise LexicalError(f"{value!r} ({T.short(datatype or '')}) is not a date or time")
        return result
    if kind is Kind.ELAPSED:
        result = parse_duration(value) if untyped else parse_typed(value, datatype)
        if not isinstance(result, Duration):
            raise LexicalError(f"{value!r} is not an xsd:duration")
        return result
    if kind is Kind.NUMBER:
        result = parse_decimal(value) if untyped else parse_typed(value, datatype)
        if not isinstance(result, Decimal):
            raise LexicalError(f"{value!r} is not a number")
        return result
    if kind is Kind.TERM:
        return value
    return parse_typed(value, datatype)


def compare(left: object, right: object) -> int | None:
    """-1, 0, 1 for ordered values, UNORDERED for different unordered ones, None if not comparable."""
    if isinstance(left, datetime):
        if isinstance(right, datetime):
            return (left > right) - (left < right)
        if isinstance(right, DateInterval):
            return -1 if left < right.start else (1 if left >= right.end else 0)
        return None
    if isinstance(left, Decimal):
        if isinstance(right, Decimal):
            return (left > right) - (left < right)
        return None
    if isinstance(left, Elapsed):
        if isinstance(right, Duration):
            deadline = right.add_to(left.start)
            return (left.now > deadline) - (left.now < deadline)
        return None
    if isinstance(left, str | bool) and type(left) is type(right):
        return 0 if left == right else UNORDERED
    if isinstance(left, Duration) and isinstance(right, Duration):
        if left == right:
            return 0
        if left.months == right.months or not (left.months or right.months):
            a, b = left.months * 2629746 + left.seconds, right.months * 2629746 + right.seconds
            return (a > b) - (a < b)
        return None
    return None


_EVENT_ORDER = {T.odrl("policyStart"): 0, T.odrl("policyUsage"): 1, T.odrl("policyEnd"): 2}


def _ordered(pred: Callable[[int], bool]) -> Callable[[object, tuple, Context], bool | None]:
    def test(left: object, rights: tuple, ctx: Context) -> bool | None:
        if len(rights) != 1 or isinstance(left, frozenset):
            return None
        right = rights[0]
        c: int | None
        if isinstance(left, str) and left in _EVENT_ORDER and right in _EVENT_ORDER:
            c = (_EVENT_ORDER[left] > _EVENT_ORDER[right]) - (
                _EVENT_ORDER[left] < _EVENT_ORDER[right]
            )
        else:
            c = compare(left, right)
        if c is None or c == UNORDERED:
            return None
        return pred(c)

    return test


def _eq(left: object, rights: tuple, ctx: Context) -> bool | None:
    if isinstance(left, frozenset):
        if len(rights) == 1:
            return rights[0] in left
        return left == frozenset(rights)
    if len(rights) != 1:
        return None
    c = compare(left, rights[0])
    return None if c is None else c == 0


def _neq(left: object, rights: tuple, ctx: Context) -> bool | None:
    result = _eq(left, rights, ctx)
    return None if result is None else not result


def _member(left: object, rights: tuple) -> bool | None:
    """Is the single value LEFT equal to one of RIGHTS?"""
    unknown = False
    for right in rights:
        c = compare(left, right)
        if c == 0:
            return True
        if c is None:
            unknown = True
    return None if unknown else False


def _any_of(left: object, rights: tuple, ctx: Context) -> bool | None:
    if isinstance(left, frozenset):
        return not left.isdisjoint(rights)
    return _member(left, rights)


def _none_of(left: object, rights: tuple, ctx: Context) -> bool | None:
    result = _any_of(left, rights, ctx)
    return None if result is None else not result


def _all_of(left: object, rights: tuple, ctx: Context) -> bool | None:
    if isinstance(left, frozenset):
        return left.issuperset(rights)
    results = [compare(left, right) for right in rights]
    if any(c is None for c in results):
        return None
    return all(c == 0 for c in results)


def _part_of(left: object, rights: tuple, ctx: Context) -> bool | None:
    values = left if isinstance(left, frozenset) else (left,)
    if not all(isinstance(v, str) for v in values) or not values:
        return None
    wanted = set(rights)
    return all(not closure(ctx, v).isdisjoint(wanted) for v in values)  # type: ignore[arg-type]


def _has_part(left: object, rights: tuple, ctx: Context) -> bool | None:
    values = left if isinstance(left, frozenset) else frozenset((left,))
    if not all(isinstance(v, str) for v in values) or not all(isinstance(r, str) for r in rights):
        return None
    return all(not closure(ctx, r).isdisjoint(values) for r in rights)


def _is_a(left: object, rights: tuple, ctx: Context) -> bool | None:
    # Class membership comes from the context like part-of does (x -> its classes).
    return _part_of(left, rights, ctx)


OPERATORS: dict[str, Callable[[object, tuple, Context], bool | None]] = {
    T.odrl("eq"): _eq,
    T.odrl("neq"): _neq,
    T.odrl("lt"): _ordered(lambda c: c < 0),
    T.odrl("lteq"): _ordered(lambda c: c <= 0),
    T.odrl("gt"): _ordered(lambda c: c > 0),
    T.odrl("gteq"): _ordered(lambda c: c >= 0),
    T.odrl("isAnyOf"): _any_of,
    T.odrl("isNoneOf"): _none_of,
    T.odrl("isAllOf"): _all_of,
    T.odrl("isPartOf"): _part_of,
    T.odrl("hasPart"): _has_part,
    T.odrl("isA"): _is_a,
}
