"""What a reply cost, from the token counts and the prices in each provider's spec."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from webapp.llm.base import Usage
from webapp.llm.specs import SPECS

_PER_TOKENS = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class Price:
    usd: Decimal
    known: bool


def cost_of(provider: str, model: str, usage: Usage, *, on: dt.date | None = None) -> Price:
    """Price `usage` at the rate in force `on` that day (today by default).

    An unknown model costs 0 with known=False, so the caller can say so
    rather than show a wrong figure.
    """
    spec = SPECS.get(provider)
    if spec is not None and spec.free:
        return Price(Decimal(0), known=True)
    rate = spec.price(model, on or dt.date.today()) if spec is not None else None
    if rate is None:
        return Price(Decimal(0), known=False)
    usd = (usage.input_tokens * rate.input + usage.output_tokens * rate.output) / _PER_TOKENS
    return Price(usd, known=True)
