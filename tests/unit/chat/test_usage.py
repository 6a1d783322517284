"""The budget month: it starts at midnight on the first, where the user is."""

from __future__ import annotations

from datetime import UTC, datetime

from webapp.chat.usage import month_start
from webapp.models import User


def test_the_month_starts_on_the_first_where_the_user_is() -> None:
    now = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
    assert month_start(User(timezone=None), now) == datetime(2026, 12, 1, tzinfo=UTC)
    # Still 30 November in Los Angeles; its 1 November began in summer time (UTC-7).
    assert month_start(User(timezone="America/Los_Angeles"), now) == datetime(2026, 11, 1, 7, 0, tzinfo=UTC)
    # Already 1 December in Tokyo (UTC+9) on the evening of 30 November, UTC.
    evening = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
    assert month_start(User(timezone="Asia/Tokyo"), evening) == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
