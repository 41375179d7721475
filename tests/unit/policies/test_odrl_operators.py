"""Typed literals and the core operators."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from policies.literals import (
    DateInterval,
    Duration,
    LexicalError,
    parse_date,
    parse_datetime,
    parse_duration,
    parse_typed,
)
from policies.model import Literal, Ref
from policies.operands import Context, Elapsed, Kind
from policies.operators import OPERATORS, compare, read_right

ODRL = "http://www.w3.org/ns/odrl/2/"
XSD = "http://www.w3.org/2001/XMLSchema#"
CTX = Context(
    now=datetime(2024, 1, 1, tzinfo=UTC),
    part_of={
        "DE": frozenset({"EU"}),
        "EU": frozenset({"Earth"}),
        "ex:alice": frozenset({"ex:team"}),
    },
)


def op(name: str, left: object, *rights: object) -> bool | None:
    return OPERATORS[ODRL + name](left, rights, CTX)


def test_datetime_lexical_forms() -> None:
    assert parse_datetime("2024-02-12T11:20:10.999Z") == datetime(
        2024, 2, 12, 11, 20, 10, 999000, tzinfo=UTC
    )
    assert parse_datetime("2024-02-12T12:20:10+01:00") == datetime(
        2024, 2, 12, 11, 20, 10, tzinfo=UTC
    )
    assert parse_datetime("2017-12-19T15:00:00").tzinfo is UTC  # implicit timezone: UTC
    assert parse_datetime("2024-01-01T24:00:00Z") == datetime(2024, 1, 2, tzinfo=UTC)
    assert parse_datetime("2023-12-31T06:00Z", lenient=True) == datetime(
        2023, 12, 31, 6, tzinfo=UTC
    )
    for bad in ("2022-06-01T08:00Z", "2025-07-23 00:00:00", "2024-13-01T00:00:00Z", "yesterday"):
        with pytest.raises(LexicalError):
            parse_datetime(bad)
    with pytest.raises(LexicalError):
        parse_typed("2024-01-01T00:00:00", XSD + "dateTimeStamp")


def test_date_is_an_interval() -> None:
    day = parse_date("2018-01-01")
    assert day == DateInterval(datetime(2018, 1, 1, tzinfo=UTC), datetime(2018, 1, 2, tzinfo=UTC))
    noon = datetime(2018, 1, 1, 12, tzinfo=UTC)
    assert compare(noon, day) == 0
    assert compare(noon - timedelta(days=1), day) == -1
    assert compare(noon + timedelta(days=1), day) == 1


def test_duration_arithmetic_is_calendar_aware() -> None:
    assert parse_duration("P1Y2M3DT4H5M6.5S") == Duration(14, Decimal("273906.5"))
    assert parse_duration("-PT1S") == Duration(0, Decimal(-1))
    jan31 = datetime(2024, 1, 31, tzinfo=UTC)
    assert parse_duration("P1M").add_to(jan31) == datetime(2024, 2, 29, tzinfo=UTC)
    for bad in ("P", "PT", "1D", "P1DT"):
        with pytest.raises(LexicalError):
            parse_duration(bad)


def test_elapsed_against_duration() -> None:
    start = datetime(2024, 1, 31, tzinfo=UTC)
    month = parse_duration("P1M")
    assert compare(Elapsed(start, datetime(2024, 2, 28, tzinfo=UTC)), month) == -1
    assert compare(Elapsed(start, datetime(2024, 2, 29, tzinfo=UTC)), month) == 0
    assert compare(Elapsed(start, datetime(2024, 3, 1, tzinfo=UTC)), month) == 1


def test_numbers_and_mismatched_types() -> None:
    assert op("lt", Decimal("4"), Decimal("5.0")) is True
    assert op("eq", Decimal("5"), Decimal("5.00")) is True
    assert op("gteq", Decimal("5"), Decimal("5")) is True
    assert op("gt", Decimal("5"), Decimal("5")) is False
    assert op("lt", CTX.now, Decimal("5")) is None  # a date is not a number: unevaluable
    assert op("lt", "research", "zoology") is None  # strings have no order in ODRL
    assert op("eq", "research", "research") is True
    assert op("neq", "research", "education") is True


def test_read_right_by_left_kind() -> None:
    assert read_right(Kind.NUMBER, Literal("10")) == Decimal(10)
    assert read_right(Kind.DATETIME, Literal("2018-01-01", XSD + "date")) == parse_date(
        "2018-01-01"
    )
    assert read_right(Kind.DATETIME, Literal("2024-01-01T00:00:00Z")) == datetime(
        2024, 1, 1, tzinfo=UTC
    )
    assert read_right(Kind.ELAPSED, Literal("P30D")) == Duration(0, Decimal(30 * 86400))
    assert read_right(Kind.TERM, Ref("http://x/y")) == "http://x/y"
    with pytest.raises(LexicalError):
        read_right(Kind.NUMBER, Literal("ten"))
    with pytest.raises(LexicalError):
        read_right(Kind.DATETIME, Ref("http://x/y"))
    with pytest.raises(LexicalError):
        read_right(Kind.NUMBER, Literal("1.5", XSD + "integer"))


def test_set_operators_single_value() -> None:
    assert op("isAnyOf", "a", "a", "b") is True
    assert op("isAnyOf", "c", "a", "b") is False
    assert op("isNoneOf", "c", "a", "b") is True
    assert op("isAllOf", "a", "a") is True
    assert op("isAllOf", "a", "a", "b") is False


def test_set_operators_multi_valued_left() -> None:
    roles = frozenset({"admin", "auditor"})
    assert op("eq", roles, "admin") is True
    assert op("neq", roles, "admin") is False
    assert op("isAnyOf", roles, "auditor", "guest") is True
    assert op("isNoneOf", roles, "guest") is True
    assert op("isAllOf", roles, "admin", "auditor") is True
    assert op("isAllOf", roles, "admin", "root") is False
    assert op("hasPart", roles, "admin") is True
    assert op("lt", roles, "admin") is None


def test_part_of_uses_the_context_transitively() -> None:
    assert op("isPartOf", "DE", "EU") is True
    assert op("isPartOf", "DE", "Earth") is True
    assert op("isPartOf", "EU", "DE") is False
    assert op("hasPart", "EU", "DE") is True
    assert op("hasPart", "DE", "EU") is False
    assert op("isA", "ex:alice", "ex:team") is True
    assert op("isPartOf", Decimal(1), "EU") is None


def test_event_order() -> None:
    assert op("lt", ODRL + "policyStart", ODRL + "policyUsage") is True
    assert op("gt", ODRL + "policyEnd", ODRL + "policyUsage") is True
