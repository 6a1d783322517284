"""Prices of replies from token counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from webapp.llm.base import Usage
from webapp.llm.pricing import Price, cost_of
from webapp.llm.specs import SPECS


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
    assert cost_of(provider, SPECS[provider].default_model, Usage(1, 1)).known


def test_prices_are_exact_money_in_time_order() -> None:
    for spec in SPECS.values():
        for periods in spec.prices.values():
            assert all(isinstance(p.input, Decimal) and p.input >= 0 and p.output >= 0 for p in periods)
            assert [p.since for p in periods] == sorted({p.since for p in periods})


def test_a_local_servers_models_are_priced_only_if_listed() -> None:
    assert cost_of("openai_compatible", "llama3.2", Usage(10, 10)) == Price(Decimal(0), known=False)
