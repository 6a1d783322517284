"""The security log: sign-ins, account changes and admin actions, kept for SECURITY_LOG_DAYS.

Flask-free; `webapp.auth.audit` fills in who acted and from where for a request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from .extensions import db
from .models import SecurityEvent, User, utcnow
from .threads.service import like_pattern

# Every kind of entry, with how the log page names it.
EVENTS = {
    "login.succeeded": "Signed in",
    "login.failed": "Failed sign-in",
    "logout": "Signed out",
    "sessions.ended": "Signed out everywhere",
    "account.created": "Account created",
    "password.changed": "Password changed",
    "password.reset_sent": "Password reset link issued",
    "password.reset": "Password reset",
    "sso.linked": "Single sign-on linked",
    "sso.unlinked": "Single sign-on unlinked",
    "sso.failed": "Single sign-on refused",
    "invite.sent": "Invitation issued",
    "invite.accepted": "Invitation accepted",
    "admin.disabled": "Account disabled",
    "admin.enabled": "Account enabled",
    "admin.promoted": "Made an admin",
    "admin.demoted": "Admin rights removed",
    "admin.signed_out": "Signed out everywhere by an admin",
    "admin.budget": "Monthly budget set",
    "project.deleted": "Project deleted",
    "thread.deleted": "Chat deleted",
}
DETAIL_CHARS = 500
PAGE_SIZE = 50
# Old entries are removed by whichever process writes next, at most this often.
_PURGE_EVERY_SECONDS = 3600
_last_purge = 0.0


def record(
    event: str,
    *,
    user: User | None = None,
    email: str | None = None,
    actor: User | None = None,
    ip: str | None = None,
    detail: str = "",
    keep_days: int = 365,
) -> None:
    """Add an entry and commit it; `email` defaults to the user's."""
    if event not in EVENTS:
        raise ValueError(f"unknown security event {event!r}")
    db.session.add(
        SecurityEvent(
            event=event,
            user_id=user.id if user else None,
            actor_id=actor.id if actor else None,
            email=(email if email is not None else user.email if user else "")[:254],
            actor_email=actor.email if actor else "",
            ip=ip,
            detail=detail[:DETAIL_CHARS],
        )
    )
    db.session.commit()
    _purge_now_and_then(keep_days)


def _purge_now_and_then(keep_days: int) -> None:
    global _last_purge
    now = time.monotonic()
    if now - _last_purge < _PURGE_EVERY_SECONDS:
        return
    _last_purge = now
    purge(keep_days)


def purge(keep_days: int) -> int:
    """Delete entries older than `keep_days`; how many went."""
    cutoff = utcnow() - timedelta(days=keep_days)
    result = db.session.execute(sa.delete(SecurityEvent).where(SecurityEvent.created_at < cutoff))
    db.session.commit()
    return result.rowcount


@dataclass(frozen=True, slots=True)
class LogFilter:
    event: str = ""
    # Part of the account's or the actor's email, or an address.
    text: str = ""
    user_id: str = ""


def entries(log_filter: LogFilter, *, page: int = 1, per_page: int = PAGE_SIZE) -> sa.Select[tuple[SecurityEvent]]:
    """The entries that match, newest first (paginate the query)."""
    query = sa.select(SecurityEvent).order_by(SecurityEvent.created_at.desc(), SecurityEvent.id)
    if log_filter.event in EVENTS:
        query = query.where(SecurityEvent.event == log_filter.event)
    if log_filter.user_id:
        query = query.where(SecurityEvent.user_id == log_filter.user_id)
    text = log_filter.text.strip().lower()[:254]
    if text:
        pattern = like_pattern(text)
        query = query.where(
            sa.or_(
                SecurityEvent.email.like(pattern, escape="\\"),
                SecurityEvent.actor_email.like(pattern, escape="\\"),
                SecurityEvent.ip.like(pattern, escape="\\"),
            )
        )
    return query
