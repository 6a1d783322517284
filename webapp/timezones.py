"""The user's time zone: which names are valid, and today's date there."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


def is_valid(name: str) -> bool:
    return name in all_names()


@lru_cache(maxsize=1)
def all_names() -> frozenset[str]:
    """Every IANA zone name this machine knows."""
    return frozenset(available_timezones())


def zone(name: str | None) -> tzinfo:
    """The zone called `name`; UTC when there is none or it is unknown."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def today_in(name: str | None, now: datetime | None = None) -> date:
    """The date in zone `name` at `now` (default: this moment)."""
    return (now or datetime.now(UTC)).astimezone(zone(name)).date()
