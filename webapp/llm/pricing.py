"""Prices per model (provisional table until the data file lands)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from webapp.llm.base import Usage


@dataclass(frozen=True, slots=True)
class Price:
    usd: Decimal
    known: bool


def cost_of(provider: str, model: str, usage: Usage) -> Price:
    return Price(Decimal("0"), provider == "offline")
