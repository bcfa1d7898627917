"""Times in the metadata DB: always timezone-aware UTC, whatever the database hands back."""

from __future__ import annotations

from datetime import UTC, datetime


def utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (SQLite returns naive datetimes for what we stored as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def now() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with milliseconds and ``Z``, as AWS APIs print times; None stays None."""
    if value is None:
        return None
    return utc(value).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
