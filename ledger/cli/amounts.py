"""Amounts and addresses as people write them: `5com`, `1.5com`, `1500000ucom`, or a bare
whole number (ucom for `bank send`, com for `init --balance`), integers of ucom inside; an
account as its bech32 `com1...` text."""

from __future__ import annotations

import re

from ..app import address
from ..app.errors import AppError
from ..errors import LedgerError, Reason

UCOM_PER_COM = 10**6
_AMOUNT = re.compile(r"(\d+)(?:\.(\d{1,6}))?\s*(com|ucom)?")


def parse_amount(text: str, bare_unit: str = "ucom", allow_zero: bool = False) -> int:
    m = _AMOUNT.fullmatch(text.strip().lower())
    unit = m and (m.group(3) or bare_unit)
    if m is None or (unit == "ucom" and m.group(2)):
        raise LedgerError(f"invalid amount {text[:40]!r}: write it as 5com, 1.5com, "
                          f"1500000ucom or a whole number of {bare_unit}", Reason.BAD_INPUT)
    whole, frac = int(m.group(1)), m.group(2) or ""
    n = whole if unit == "ucom" else whole * UCOM_PER_COM + int(frac.ljust(6, "0") or 0)
    if n == 0 and not allow_zero:
        raise LedgerError(f"invalid amount {text[:40]!r}: it must be more than zero",
                          Reason.BAD_INPUT)
    return n


def shown(ucom: int) -> str:
    """`5 com (5000000 ucom)`, `0.0025 com (2500 ucom)`."""
    whole, frac = divmod(ucom, UCOM_PER_COM)
    com = f"{whole}" + (f".{frac:06d}".rstrip("0") if frac else "")
    return f"{com} com ({ucom} ucom)"


def parse_account(text: str) -> str:
    """The canonical text of an account address, or a LedgerError that says why not."""
    try:
        return address.to_text(address.parse(text))
    except AppError as e:
        raise LedgerError(str(e), Reason.BAD_INPUT) from None
