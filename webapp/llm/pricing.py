"""What a reply cost, from the token counts and the published prices in pricing.json."""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Any

from webapp.llm.base import Usage

_PER_TOKENS = Decimal(1_000_000)
# An OpenAI-compatible server may be local (free) or a paid service: we cannot
# know, so its models are priced only if listed.
_FREE = frozenset({"offline"})


@dataclass(frozen=True, slots=True)
class Price:
    usd: Decimal
    known: bool


def cost_of(provider: str, model: str, usage: Usage, *, on: dt.date | None = None) -> Price:
    """Price `usage` at the rate in force `on` that day (today by default).

    An unknown model costs 0 with known=False, so the caller can say so
    rather than show a wrong figure.
    """
    if provider in _FREE:
        return Price(Decimal(0), known=True)
    rate = _rate(provider, model, on or dt.date.today())
    if rate is None:
        return Price(Decimal(0), known=False)
    input_rate, output_rate = rate
    usd = (usage.input_tokens * input_rate + usage.output_tokens * output_rate) / _PER_TOKENS
    return Price(usd, known=True)


def _rate(provider: str, model: str, day: dt.date) -> tuple[Decimal, Decimal] | None:
    periods = _table().get(provider, {}).get(model, ())
    started = [p for p in periods if p["since"] <= day]
    if not started:
        return None
    latest = max(started, key=lambda p: p["since"])
    return latest["input"], latest["output"]


@functools.cache
def _table() -> dict[str, dict[str, list[dict[str, Any]]]]:
    raw = json.loads(resources.files("webapp.llm").joinpath("pricing.json").read_text("utf-8"))
    return {
        provider: {model: [_period(p) for p in periods] for model, periods in models.items()}
        for provider, models in raw.items()
        if not provider.startswith("_")
    }


def _period(raw: dict[str, str]) -> dict[str, Any]:
    # Strings in the file, Decimal here: prices are money, not floats.
    return {
        "since": dt.date.fromisoformat(raw["since"]),
        "input": Decimal(raw["input"]),
        "output": Decimal(raw["output"]),
    }
