"""Signed-in sessions: one row per signed-in browser, so that ending it ends its cookies everywhere.

The session cookie and the remember cookie carry the session's random token, never the user's id:
log-out deletes the row, and a password change, a disabled account or "sign out of all devices"
delete every row of the user, so no copy of an old cookie works again.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import LoginSession, User, utcnow

REMEMBERED_FOR = timedelta(days=30)
# A session that is not remembered ends after this long without a request.
IDLE_LIMIT = timedelta(hours=12)
# How stale `last_seen_at` may get before a request writes it again.
TOUCH_EVERY = timedelta(minutes=5)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(user: User, *, remember: bool, method: str, ip: str | None, user_agent: str) -> str:
    """Record a new signed-in browser for `user`; the token its cookies carry."""
    token = secrets.token_urlsafe(32)
    _forget_expired(user, utcnow())
    db.session.add(
        LoginSession(
            user_id=user.id,
            token_hash=_digest(token),
            remember=remember,
            method=method,
            ip=ip,
            user_agent=user_agent[:200],
        )
    )
    user.last_login_at = utcnow()
    db.session.commit()
    return token


# Every request runs it: built once, its cache key is worked out once too.
_BY_TOKEN = (
    sa.select(LoginSession)
    .options(joinedload(LoginSession.user))
    .where(LoginSession.token_hash == sa.bindparam("token_hash"))
)


def find(token: str) -> LoginSession | None:
    """The live session of this token, with its user; an expired one is deleted."""
    row = db.session.scalar(_BY_TOKEN, {"token_hash": _digest(token)})
    if row is None:
        return None
    now = utcnow()
    if _expired(row, now) or not row.user.is_active:
        db.session.delete(row)
        db.session.commit()
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
        db.session.commit()
    return row


def _forget_expired(user: User, now: datetime) -> None:
    db.session.execute(
        sa.delete(LoginSession).where(
            LoginSession.user_id == user.id,
            sa.or_(
                sa.and_(LoginSession.remember, LoginSession.created_at < now - REMEMBERED_FOR),
                sa.and_(sa.not_(LoginSession.remember), LoginSession.last_seen_at < now - IDLE_LIMIT),
            ),
        )
    )


def _expired(row: LoginSession, now: datetime) -> bool:
    if row.remember:
        return now - row.created_at > REMEMBERED_FOR
    return now - row.last_seen_at > IDLE_LIMIT


def end(token: str | None) -> None:
    """End one session (log-out)."""
    if token:
        db.session.execute(sa.delete(LoginSession).where(LoginSession.token_hash == _digest(token)))
        db.session.commit()


def end_by_id(user: User, session_id: str) -> bool:
    """End one of the user's sessions by its id (another device); whether there was one."""
    result = db.session.execute(
        sa.delete(LoginSession).where(LoginSession.id == session_id, LoginSession.user_id == user.id)
    )
    db.session.commit()
    return bool(result.rowcount)


def end_all(user: User) -> int:
    """End every session of the user, on every device; how many there were."""
    result = db.session.execute(sa.delete(LoginSession).where(LoginSession.user_id == user.id))
    db.session.commit()
    return result.rowcount


def of_user(user: User) -> list[LoginSession]:
    """The user's signed-in browsers, the most recently used first."""
    return list(
        db.session.scalars(
            sa.select(LoginSession).where(LoginSession.user_id == user.id).order_by(LoginSession.last_seen_at.desc())
        )
    )


def is_current(row: LoginSession, token: str | None) -> bool:
    return token is not None and secrets.compare_digest(row.token_hash, _digest(token))
