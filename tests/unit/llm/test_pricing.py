"""Prices of replies from token counts."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from importlib import resources

import pytest

from webapp.llm.base import Usage
from webapp.llm.models import DEFAULT_MODELS
from webapp.llm.pricing import Price, cost_of


def test_prices_a_known_model_per_million_tokens() -> None:
    price = cost_of("anthropic", "claude-sonnet-5-5", Usage(input_tokens=1_000_000, output_tokens=500_000))

    assert price == Price(Decimal("7.00"), known=True)


def test_small_replies_keep_their_fractions_of_a_cent() -> None:
    price = cost_of("openai", "gpt-6.1-sol", Usage(input_tokens=1_234, output_tokens=567))

    assert price.usd == Decimal("0.008138")


def test_unknown_model_costs_nothing_and_says_so() -> None:
    assert cost_of("openai", "gpt-unheard-of", Usage(10, 10)) == Price(Decimal(0), known=False)
    assert cost_of("nobody", "anything", Usage(10, 10)) == Price(Decimal(0), known=False)


def test_offline_is_free_and_known() -> None:
    assert cost_of("offline", "offline", Usage(5_000, 5_000)) == Price(Decimal(0), known=True)


def test_the_rate_in_force_on_the_day_applies() -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=0)

    assert cost_of("gemini", "gemini-3.8-flash", usage, on=dt.date(2026, 12, 31)).usd == Decimal("0.75")
    assert cost_of("gemini", "gemini-3.8-flash", usage, on=dt.date(2027, 1, 1)).usd == Decimal("1.50")


@pytest.mark.parametrize("provider", ["anthropic", "openai", "gemini", "deepseek"])
def test_every_default_model_has_a_price(provider: str) -> None:
    assert cost_of(provider, DEFAULT_MODELS[provider], Usage(1, 1)).known


def test_price_file_is_strings_of_money() -> None:
    raw = json.loads(resources.files("webapp.llm").joinpath("pricing.json").read_text("utf-8"))
    for provider, models in raw.items():
        if provider.startswith("_"):
            continue
        for periods in models.values():
            for period in periods:
                assert Decimal(period["input"]) >= 0 and Decimal(period["output"]) >= 0
                dt.date.fromisoformat(period["since"])
