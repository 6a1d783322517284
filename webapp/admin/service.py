"""Managing people: search, disable and enable, admin rights, budgets. Flask-free."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from ..auth import login_sessions
from ..chat.usage import month_start
from ..extensions import db
from ..models import TokenUsage, User, utcnow
from ..threads.service import like_pattern

MAX_BUDGET = Decimal("1000000")


class AdminError(Exception):
    """An action the console refuses; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def users_query(search: str = "") -> sa.Select[tuple[User]]:
    """Users whose email or name contains `search`, by name."""
    query = sa.select(User).order_by(sa.func.lower(User.display_name), User.email)
    text = search.strip()[:254]
    if text:
        pattern = like_pattern(text)
        query = query.where(
            sa.or_(User.email.ilike(pattern, escape="\\"), User.display_name.ilike(pattern, escape="\\"))
        )
    return query


def month_spend_of(users: list[User]) -> dict[str, Decimal]:
    """This month's spend of each user, each in their own month (as their budget counts it)."""
    by_start: dict[datetime, list[str]] = defaultdict(list)
    for user in users:
        by_start[month_start(user)].append(user.id)
    if not by_start:
        return {}
    condition = sa.or_(
        *(sa.and_(TokenUsage.user_id.in_(ids), TokenUsage.created_at >= start) for start, ids in by_start.items())
    )
    rows = db.session.execute(
        sa.select(TokenUsage.user_id, sa.func.sum(TokenUsage.cost)).where(condition).group_by(TokenUsage.user_id)
    )
    return {user_id: Decimal(str(total)) for user_id, total in rows}


def _active_admins() -> int:
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.is_admin, User.disabled_at.is_(None)))
        or 0
    )


def _check_not_last_admin(user: User, action: str) -> None:
    if user.is_admin and user.is_active and _active_admins() <= 1:
        raise AdminError(
            f"{user.display_name} is the only admin, so they cannot be {action}. Make someone else an admin first."
        )


def disable(user: User, *, by: User) -> None:
    """Disable the account and end its sessions at once."""
    if user.id == by.id:
        raise AdminError("You cannot disable your own account.")
    _check_not_last_admin(user, "disabled")
    user.disabled_at = utcnow()
    db.session.commit()
    login_sessions.end_all(user)


def enable(user: User) -> None:
    user.disabled_at = None
    db.session.commit()


def set_admin(user: User, is_admin: bool) -> None:
    """Give or take admin rights, never from the last admin."""
    if not is_admin:
        _check_not_last_admin(user, "removed as admin")
    user.is_admin = is_admin
    db.session.commit()


def parse_budget(text: str | None) -> Decimal | None:
    """A budget typed into the console: dollars, or empty for the server's default."""
    cleaned = (text or "").strip().removeprefix("$").replace(",", "")
    if not cleaned:
        return None
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise AdminError("Write the budget as an amount in dollars, such as 25 or 12.50.") from None
    if not amount.is_finite() or amount < 0 or amount > MAX_BUDGET:
        raise AdminError(f"A budget is between $0 and ${MAX_BUDGET:,}.")
    return amount.quantize(Decimal("0.01"))


def set_budget(user: User, amount: Decimal | None) -> None:
    """Give the user a monthly budget of their own, or (None) the server's default back."""
    user.monthly_budget_usd = amount
    db.session.commit()


@dataclass(frozen=True, slots=True)
class UserCounts:
    total: int
    admins: int
    disabled: int


def counts() -> UserCounts:
    row = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count().filter(User.is_admin),
            sa.func.count().filter(User.disabled_at.is_not(None)),
        ).select_from(User)
    ).one()
    return UserCounts(int(row[0]), int(row[1]), int(row[2]))
