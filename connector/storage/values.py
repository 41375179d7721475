"""Column values both backends read back alike."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any


def aware(value: datetime | None) -> datetime | None:
    """A stored time as UTC: SQLite returns naive datetimes, and everything we store is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def json_text(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)
