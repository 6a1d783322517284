"""Time zone names and the user's date."""

from __future__ import annotations

from datetime import UTC, date, datetime

from webapp import timezones
from webapp.models import Task, User

# UTC+14 and UTC-11: 25 hours apart, so their dates always differ by one day.
EAST, WEST = "Pacific/Kiritimati", "Pacific/Pago_Pago"
NOON_UTC = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_today_is_the_date_in_the_zone() -> None:
    assert timezones.today_in(EAST, NOON_UTC) == date(2026, 3, 2)
    assert timezones.today_in(WEST, NOON_UTC) == date(2026, 3, 1)
    assert timezones.today_in(None, NOON_UTC) == timezones.today_in("No/Such_Zone", NOON_UTC) == date(2026, 3, 1)


def test_only_known_zone_names_are_valid() -> None:
    assert timezones.is_valid("Europe/Berlin") and timezones.is_valid("UTC")
    assert not timezones.is_valid("Europe/Atlantis") and not timezones.is_valid("") and not timezones.is_valid("x" * 65)


def test_a_task_is_overdue_from_the_users_own_date() -> None:
    east, west = User(timezone=EAST), User(timezone=WEST)
    task = Task(title="Send the minutes", completed=False, due_date=date(2026, 3, 1))
    assert task.is_overdue_on(east.today(NOON_UTC)) and not task.is_overdue_on(west.today(NOON_UTC))


def test_a_message_time_is_short_for_today_and_longer_further_back() -> None:
    from webapp.rendering import short_time

    today = date(2026, 12, 2)
    assert short_time(datetime(2026, 12, 2, 9, 5), today) == "09:05"
    assert short_time(datetime(2026, 11, 30, 21, 40), today) == "30 Nov 21:40"
    assert short_time(datetime(2025, 3, 1, 8, 0), today) == "1 Mar 2025"
