"""Token usage and cost: recorded for every reply, title and summary; summed per user."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import sqlalchemy as sa

from ..extensions import db
from ..llm.base import Usage
from ..llm.pricing import cost_of
from ..models import Message, Thread, TokenUsage, utcnow


def record(thread: Thread, message: Message | None, provider: str, model: str, purpose: str,
           input_tokens: int, output_tokens: int) -> TokenUsage:
    """Add a usage row (the caller commits)."""
    price = cost_of(provider, model, Usage(input_tokens, output_tokens))
    row = TokenUsage(
        user_id=thread.user_id, thread_id=thread.id, message_id=message.id if message else None,
        provider=provider, model=model, purpose=purpose,
        input_tokens=input_tokens, output_tokens=output_tokens, cost=price.usd,
    )
    db.session.add(row)
    return row


def month_start(now: datetime | None = None) -> datetime:
    now = now or utcnow()
    return datetime(now.year, now.month, 1, tzinfo=timezone.utc)


def month_spend(user_id: str) -> Decimal:
    """What the user's usage has cost since the start of this month (UTC)."""
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(TokenUsage.cost), 0))
        .where(TokenUsage.user_id == user_id, TokenUsage.created_at >= month_start())
    )
    return Decimal(str(total))


def thread_totals(thread_id: str) -> tuple[int, int, Decimal]:
    """Input tokens, output tokens and cost of everything done for one thread."""
    row = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(TokenUsage.input_tokens), 0),
                  sa.func.coalesce(sa.func.sum(TokenUsage.output_tokens), 0),
                  sa.func.coalesce(sa.func.sum(TokenUsage.cost), 0))
        .where(TokenUsage.thread_id == thread_id)
    ).one()
    return int(row[0]), int(row[1]), Decimal(str(row[2]))
