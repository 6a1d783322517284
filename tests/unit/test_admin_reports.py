"""The usage chart's layout, the report's months, and device names."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from webapp.admin.chart import LABEL_WIDTH, PLOT_WIDTH, bar_chart
from webapp.admin.usage_report import ProviderUsage, UserUsage, next_month, parse_month, previous_month
from webapp.auth.devices import device_name


def _user(name: str, **costs: str) -> UserUsage:
    return UserUsage(
        name.lower(),
        name,
        f"{name.lower()}@example.com",
        [ProviderUsage(provider, 1, 1, Decimal(cost)) for provider, cost in costs.items()],
    )


def test_bars_are_scaled_to_the_largest_and_stacked_by_provider() -> None:
    chart = bar_chart([_user("Ben", anthropic="6", openai="2"), _user("Ana", openai="4")], ["anthropic", "openai"])
    ben, ana = chart.bars
    assert [s.width for s in ben.segments] == [PLOT_WIDTH * 6 / 8, PLOT_WIDTH * 2 / 8]
    assert ben.segments[1].x == LABEL_WIDTH + PLOT_WIDTH * 6 / 8
    assert ana.segments[0].width == PLOT_WIDTH / 2 and ana.segments[0].series == chart.series["openai"] == 1
    assert ana.y > ben.y and chart.height >= 2 * 18


def test_no_cost_draws_empty_bars() -> None:
    chart = bar_chart([_user("Ana", offline="0")], ["offline"])
    assert chart.bars[0].segments[0].width == 0


def test_long_names_are_shortened_and_only_the_top_users_are_drawn() -> None:
    users = [_user(f"Someone with a very long name {n}", anthropic=str(30 - n)) for n in range(25)]
    chart = bar_chart(users, ["anthropic"])
    assert len(chart.bars) == 20 and chart.bars[0].label.endswith("…") and len(chart.bars[0].label) == 24


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("2026-02", date(2026, 2, 1)),
        ("2026-13", date(2026, 12, 1)),
        ("nonsense", date(2026, 12, 1)),
        (None, date(2026, 12, 1)),
        ("1999-05", date(2026, 12, 1)),
        ("2026-1-1", date(2026, 12, 1)),
    ],
)
def test_months(text: str | None, month: date) -> None:
    assert parse_month(text, today=date(2026, 12, 4)) == month


def test_months_around_the_new_year() -> None:
    assert next_month(date(2026, 12, 1)) == date(2027, 1, 1)
    assert previous_month(date(2027, 1, 1)) == date(2026, 12, 1)
    assert previous_month(date(2026, 3, 1)) == date(2026, 2, 1)


@pytest.mark.parametrize(
    ("agent", "name"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36 Edg/120.0",
            "Edge on Windows",
        ),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Mobile Safari/604.1", "Safari on iPhone"),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox on Linux"),
        ("curl/8.4.0", "Unknown browser"),
        ("", "Unknown browser"),
    ],
)
def test_device_names(agent: str, name: str) -> None:
    assert device_name(agent) == name
