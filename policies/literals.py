"""Typed values for right operands: xsd:dateTime, xsd:date, xsd:duration, numbers, strings.

Lexical forms are checked as XSD defines them (an ill-typed literal is reported, never
guessed). A dateTime without a timezone is read in UTC: the processor's implicit timezone
(XSD 1.1 §3.3.7) is UTC in communs.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation

from policies.terms import XSD

_DT = re.compile(r"(-?\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d)(\.\d+)?)?(Z|[+-]\d\d:\d\d)?")
_DATE = re.compile(r"(-?\d{4,})-(\d\d)-(\d\d)(Z|[+-]\d\d:\d\d)?")
_DUR = re.compile(
    r"(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?"
)
NUMERIC = frozenset(
    XSD + t
    for t in (
        "decimal integer int long short byte double float nonNegativeInteger "
        "positiveInteger nonPositiveInteger negativeInteger unsignedInt unsignedLong"
    ).split()
)
STRINGS = frozenset({XSD + "string", XSD + "anyURI", XSD + "token", XSD + "normalizedString"})


class LexicalError(ValueError):
    """A literal whose lexical form is not valid for its datatype."""


def _tz(text: str | None) -> tzinfo:
    if text is None or text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    hours, minutes = int(text[1:3]), int(text[4:6])
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_datetime(text: str, *, require_tz: bool = False, lenient: bool = False) -> datetime:
    """An xsd:dateTime; LENIENT (for untyped strings) also takes ISO 8601's hh:mm."""
    m = _DT.fullmatch(text.strip())
    if m is not None and m.group(6) is None and not lenient:
        m = None  # XSD requires the seconds
    if m is None:
        raise LexicalError(f"{text!r} is not an xsd:dateTime (YYYY-MM-DDThh:mm:ss[.s][zone])")
    if require_tz and m.group(8) is None:
        raise LexicalError(f"{text!r} is not an xsd:dateTimeStamp (a timezone is required)")
    year, month, day, hour, minute, second = (int(m.group(i) or 0) for i in range(1, 7))
    frac = m.group(7) or ""
    micro = int((frac[1:] + "000000")[:6]) if frac else 0
    extra = timedelta(0)
    if hour == 24:  # XSD allows 24:00:00 as the end of the day
        if minute or second or micro:
            raise LexicalError(f"{text!r}: 24:00:00 is the only valid time with hour 24")
        hour, extra = 0, timedelta(days=1)
    try:
        value = datetime(year, month, day, hour, minute, second, micro, tzinfo=_tz(m.group(8)))
    except ValueError as exc:
        raise LexicalError(f"{text!r} is not a valid date and time: {exc}") from None
    return (value + extra).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class DateInterval:
    """An xsd:date read as the half-open interval of instants it covers: [start, end)."""

    start: datetime
    end: datetime


def parse_date(text: str) -> DateInterval:
    m = _DATE.fullmatch(text.strip())
    if m is None:
        raise LexicalError(f"{text!r} is not an xsd:date (YYYY-MM-DD[zone])")
    try:
        day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError as exc:
        raise LexicalError(f"{text!r} is not a valid date: {exc}") from None
    start = datetime(day.year, day.month, day.day, tzinfo=_tz(m.group(4))).astimezone(UTC)
    return DateInterval(start, start + timedelta(days=1))


@dataclass(frozen=True, slots=True)
class Duration:
    """An xsd:duration: months and seconds kept apart, as XSD does (P1M is not 30 days)."""

    months: int
    seconds: Decimal

    def add_to(self, moment: datetime) -> datetime:
        """MOMENT + this duration (XSD 1.1 appendix E: months first, clamping the day)."""
        total = moment.year * 12 + (moment.month - 1) + self.months
        year, month = divmod(total, 12)
        month += 1
        day = min(moment.day, calendar.monthrange(year, month)[1])
        shifted = moment.replace(year=year, month=month, day=day)
        return shifted + timedelta(seconds=float(self.seconds))


def parse_duration(text: str) -> Duration:
    stripped = text.strip()
    m = _DUR.fullmatch(stripped)
    if m is None or stripped in ("P", "-P") or stripped.endswith("T"):
        raise LexicalError(f"{text!r} is not an xsd:duration (PnYnMnDTnHnMnS)")
    sign = -1 if m.group(1) else 1
    years, months, days, hours, minutes = (int(m.group(i) or 0) for i in range(2, 7))
    seconds = Decimal(m.group(7) or 0)
    total_seconds = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    return Duration(sign * (years * 12 + months), sign * total_seconds)


def parse_decimal(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise LexicalError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise LexicalError(f"{text!r} is not a finite number")
    return value


def parse_typed(value: str, datatype: str | None) -> object:
    """The Python value of a typed literal; unknown datatypes stay strings."""
    if datatype is None or datatype in STRINGS:
        return value
    if datatype == XSD + "dateTime":
        return parse_datetime(value)
    if datatype == XSD + "dateTimeStamp":
        return parse_datetime(value, require_tz=True)
    if datatype == XSD + "date":
        return parse_date(value)
    if datatype in (XSD + "duration", XSD + "dayTimeDuration", XSD + "yearMonthDuration"):
        return parse_duration(value)
    if datatype in NUMERIC:
        number = parse_decimal(value)
        if datatype not in (XSD + "decimal", XSD + "double", XSD + "float") and (
            number != number.to_integral_value()
        ):
            raise LexicalError(f"{value!r} is not an integer")
        return number
    if datatype == XSD + "boolean":
        if value in ("true", "1"):
            return True
        if value in ("false", "0"):
            return False
        raise LexicalError(f"{value!r} is not an xsd:boolean")
    return value
