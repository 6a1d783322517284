"""A horizontal stacked bar chart of cost per user and provider, laid out here and drawn as inline SVG."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .usage_report import UserUsage

ROW_HEIGHT = 28
BAR_HEIGHT = 18
LABEL_WIDTH = 180
PLOT_WIDTH = 520
TOTAL_WIDTH = 90
# Series colours come from the stylesheet (.chart-series-N), so they follow the theme.
SERIES_COUNT = 6


@dataclass(frozen=True, slots=True)
class Segment:
    x: float
    width: float
    series: int
    provider: str
    cost: Decimal


@dataclass(frozen=True, slots=True)
class Bar:
    y: float
    label: str
    cost: Decimal
    end: float
    segments: list[Segment]


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    label_width: int
    bars: list[Bar]
    series: dict[str, int]

    @property
    def text_offset(self) -> float:
        return (BAR_HEIGHT + 10) / 2


def bar_chart(users: list[UserUsage], providers: list[str], *, top: int = 20) -> Chart:
    """One bar per user (the `top` costliest), a segment per provider, scaled to the largest bar."""
    shown = users[:top]
    largest = max((user.cost for user in shown), default=Decimal(0))
    scale = PLOT_WIDTH / float(largest) if largest > 0 else 0.0
    series = {provider: index % SERIES_COUNT for index, provider in enumerate(providers)}
    bars = [_bar(user, row, scale, series) for row, user in enumerate(shown)]
    return Chart(
        width=LABEL_WIDTH + PLOT_WIDTH + TOTAL_WIDTH,
        height=max(len(bars), 1) * ROW_HEIGHT,
        label_width=LABEL_WIDTH,
        bars=bars,
        series=series,
    )


def _bar(user: UserUsage, row: int, scale: float, series: dict[str, int]) -> Bar:
    x = float(LABEL_WIDTH)
    segments = []
    for usage in user.providers:
        width = float(usage.cost) * scale
        segments.append(Segment(round(x, 2), round(width, 2), series[usage.provider], usage.provider, usage.cost))
        x += width
    label = user.name if len(user.name) <= 24 else user.name[:23] + "…"
    return Bar(
        y=row * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2,
        label=label,
        cost=user.cost,
        end=round(x + 6, 2),
        segments=segments,
    )
