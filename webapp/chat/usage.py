"""Token usage and cost: recorded for every reply, title and summary; summed per user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..llm.base import Usage
from ..llm.pricing import cost_of
from ..models import Message, Thread, TokenUsage, User, new_id, utcnow
from ..timezones import zone

# A rough, provider-neutral token count for text; exact counts would need each provider's tokenizer.
CHARS_PER_TOKEN = 4


def estimate_tokens(chars: int) -> int:
    """The tokens `chars` characters of text make, about."""
    return -(-chars // CHARS_PER_TOKEN)


@dataclass
class Meter:
    """What a reply has used so far, round by round: the provider's counts, or estimates."""

    input_tokens: int = 0
    output_tokens: int = 0
    estimated: bool = False

    def add(self, reported: Usage | None, *, sent_chars: int, received_chars: int) -> None:
        """Add one request: the counts its provider reported, else estimates from its text."""
        if reported is None:
            reported = Usage(estimate_tokens(sent_chars), estimate_tokens(received_chars))
            self.estimated = True
        self.input_tokens += reported.input_tokens
        self.output_tokens += reported.output_tokens


def usage_values(
    *,
    user_id: str,
    thread_id: str,
    message_id: str | None,
    provider: str,
    model: str,
    purpose: str,
    used: Usage,
    estimated: bool = False,
) -> dict[str, Any]:
    """A usage row's columns, priced."""
    return {
        "id": new_id(),
        "user_id": user_id,
        "thread_id": thread_id,
        "message_id": message_id,
        "provider": provider,
        "model": model,
        "purpose": purpose,
        "input_tokens": used.input_tokens,
        "output_tokens": used.output_tokens,
        "cost": cost_of(provider, model, used).usd,
        "estimated": estimated,
        "created_at": utcnow(),
    }


def record(
    thread: Thread,
    message: Message | None,
    provider: str,
    model: str,
    purpose: str,
    input_tokens: int,
    output_tokens: int,
) -> TokenUsage:
    """Add a usage row (the caller commits)."""
    row = TokenUsage(
        **usage_values(
            user_id=thread.user_id,
            thread_id=thread.id,
            message_id=message.id if message else None,
            provider=provider,
            model=model,
            purpose=purpose,
            used=Usage(input_tokens, output_tokens),
        )
    )
    db.session.add(row)
    return row


def month_start(user: User, now: datetime | None = None) -> datetime:
    """The first moment of the current month in the user's time zone, in UTC."""
    here = (now or utcnow()).astimezone(zone(user.timezone))
    return here.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def month_spend(user: User) -> Decimal:
    """What the user's usage has cost since the start of their month."""
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(TokenUsage.cost), 0)).where(
            TokenUsage.user_id == user.id, TokenUsage.created_at >= month_start(user)
        )
    )
    return Decimal(str(total))


@dataclass(frozen=True, slots=True)
class Totals:
    input_tokens: int
    output_tokens: int
    cost: Decimal


def thread_totals(thread_id: str) -> Totals:
    """Tokens and cost of everything done for one thread (replies, titles, summaries)."""
    row = db.session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(TokenUsage.input_tokens), 0),
            sa.func.coalesce(sa.func.sum(TokenUsage.output_tokens), 0),
            sa.func.coalesce(sa.func.sum(TokenUsage.cost), 0),
        ).where(TokenUsage.thread_id == thread_id)
    ).one()
    return Totals(int(row[0]), int(row[1]), Decimal(str(row[2])))


@dataclass(frozen=True, slots=True)
class ThreadSpend:
    thread_id: str | None
    title: str | None
    input_tokens: int
    output_tokens: int
    cost: Decimal


@dataclass(frozen=True, slots=True)
class MonthUsage:
    spent: Decimal
    budget: Decimal
    input_tokens: int
    output_tokens: int
    threads: list[ThreadSpend]

    @property
    def share(self) -> Decimal:
        return self.spent / self.budget if self.budget > 0 else Decimal(0)


def month_usage(user: User, budget: Decimal, *, top: int = 10) -> MonthUsage:
    """This month's tokens and cost (the user's month), in total and for the threads that cost most."""
    rows = db.session.execute(
        sa.select(
            TokenUsage.thread_id,
            Thread.title,
            sa.func.sum(TokenUsage.input_tokens),
            sa.func.sum(TokenUsage.output_tokens),
            sa.func.sum(TokenUsage.cost),
        )
        .outerjoin(Thread, Thread.id == TokenUsage.thread_id)
        .where(TokenUsage.user_id == user.id, TokenUsage.created_at >= month_start(user))
        .group_by(TokenUsage.thread_id, Thread.title)
        .order_by(sa.func.sum(TokenUsage.cost).desc(), sa.func.sum(TokenUsage.output_tokens).desc())
    ).all()
    threads = [ThreadSpend(r[0], r[1], int(r[2]), int(r[3]), Decimal(str(r[4]))) for r in rows]
    return MonthUsage(
        spent=sum((t.cost for t in threads), Decimal(0)),
        budget=budget,
        input_tokens=sum(t.input_tokens for t in threads),
        output_tokens=sum(t.output_tokens for t in threads),
        threads=threads[:top],
    )
