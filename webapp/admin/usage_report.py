"""Usage per user and per provider over one calendar month (UTC), with its cost. Flask-free."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa

from ..extensions import db
from ..models import TokenUsage, User, utcnow


@dataclass(frozen=True, slots=True)
class ProviderUsage:
    provider: str
    input_tokens: int
    output_tokens: int
    cost: Decimal


@dataclass(slots=True)
class UserUsage:
    user_id: str
    name: str
    email: str
    providers: list[ProviderUsage] = field(default_factory=list)

    @property
    def cost(self) -> Decimal:
        return sum((p.cost for p in self.providers), Decimal(0))

    @property
    def input_tokens(self) -> int:
        return sum(p.input_tokens for p in self.providers)

    @property
    def output_tokens(self) -> int:
        return sum(p.output_tokens for p in self.providers)


@dataclass(frozen=True, slots=True)
class Report:
    month: date
    users: list[UserUsage]
    providers: list[str]

    @property
    def cost(self) -> Decimal:
        return sum((user.cost for user in self.users), Decimal(0))


def parse_month(text: str | None, today: date | None = None) -> date:
    """The first day of the month `YYYY-MM` names; this month for anything else."""
    current = (today or utcnow().date()).replace(day=1)
    try:
        year, month = (int(part) for part in (text or "").split("-"))
        return date(year, month, 1) if 2000 <= year <= 9999 else current
    except ValueError:
        return current


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def _at_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def report(month: date) -> Report:
    """Each user's tokens and cost per provider in `month`, the costliest user first."""
    rows = db.session.execute(
        sa.select(
            User.id,
            User.display_name,
            User.email,
            TokenUsage.provider,
            sa.func.sum(TokenUsage.input_tokens),
            sa.func.sum(TokenUsage.output_tokens),
            sa.func.sum(TokenUsage.cost),
        )
        .join(User, User.id == TokenUsage.user_id)
        .where(TokenUsage.created_at >= _at_midnight(month), TokenUsage.created_at < _at_midnight(next_month(month)))
        .group_by(User.id, User.display_name, User.email, TokenUsage.provider)
    ).all()
    users: dict[str, UserUsage] = {}
    providers: dict[str, Decimal] = defaultdict(Decimal)
    for user_id, name, email, provider, tokens_in, tokens_out, cost in rows:
        usage = users.setdefault(user_id, UserUsage(user_id, name, email))
        usage.providers.append(ProviderUsage(provider, int(tokens_in), int(tokens_out), Decimal(str(cost))))
        providers[provider] += Decimal(str(cost))
    for usage in users.values():
        usage.providers.sort(key=lambda p: p.provider)
    ordered = sorted(users.values(), key=lambda u: (-u.cost, -u.output_tokens, u.name.lower()))
    return Report(month, ordered, sorted(providers, key=lambda p: (-providers[p], p)))
