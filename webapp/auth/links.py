"""One-time links: an invitation to a new account, or a password reset. Flask-free.

Only a SHA-256 of each link's token is stored; a link works once, until it expires, and a new
link for the same account and purpose replaces the one before.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import AccountLink, User, utcnow
from . import service

VALID_FOR = {"invite": timedelta(days=7), "reset": timedelta(hours=24)}
# A reset asked for by mail: whoever reads the mailbox holds it, so it lasts less.
MAILED_RESET_VALID_FOR = timedelta(hours=1)


class LinkError(Exception):
    """The link cannot be used; the message says why, for its page."""

    def __init__(self, message: str, *, status: int = 410) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(user: User, purpose: str, *, by: User | None, valid_for: timedelta | None = None) -> str:
    """A new link for `user`, replacing any open one for the same purpose; its token."""
    token = secrets.token_urlsafe(32)
    db.session.execute(
        sa.delete(AccountLink).where(
            AccountLink.user_id == user.id, AccountLink.purpose == purpose, AccountLink.used_at.is_(None)
        )
    )
    db.session.add(
        AccountLink(
            user_id=user.id,
            purpose=purpose,
            token_hash=_digest(token),
            created_by_id=by.id if by else None,
            expires_at=utcnow() + (valid_for or VALID_FOR[purpose]),
        )
    )
    db.session.commit()
    return token


def invite(*, email: str, display_name: str, is_admin: bool, by: User) -> tuple[User, str]:
    """Create an account without a password, and the link that lets its owner in."""
    user = service.create_user(email=email, display_name=display_name, password=None, is_admin=is_admin)
    return user, issue(user, "invite", by=by)


def open_link(token: str, purpose: str) -> AccountLink:
    """The link of this token, if it can still be used."""
    link = db.session.scalar(
        sa.select(AccountLink)
        .options(joinedload(AccountLink.user))
        .where(AccountLink.token_hash == _digest(token), AccountLink.purpose == purpose)
    )
    noun = "invitation" if purpose == "invite" else "password reset link"
    if link is None:
        raise LinkError(f"This {noun} is not valid. Check that you copied all of it.", status=404)
    if link.used_at is not None:
        raise LinkError(
            f"This {noun} has already been used. Each link works once; "
            "ask your administrator for a new one if you need it."
        )
    if link.expires_at <= utcnow():
        raise LinkError(f"This {noun} has expired. Ask your administrator for a new one.")
    if not link.user.is_active:
        raise LinkError("This account is disabled. Ask your administrator.", status=403)
    return link


def use(link: AccountLink, *, password: str, display_name: str | None = None) -> User:
    """Set the account's password through the link (and its name, for an invitation); the link is spent."""
    user = link.user
    password_hash = service.hash_password(password)
    # Claimed in one statement, so two requests racing with the same link cannot both use it.
    claimed = db.session.execute(
        sa.update(AccountLink).where(AccountLink.id == link.id, AccountLink.used_at.is_(None)).values(used_at=utcnow())
    ).rowcount
    if not claimed:
        db.session.rollback()
        raise LinkError("This link has already been used.")
    user.password_hash = password_hash
    if display_name is not None and display_name.strip():
        user.display_name = display_name.strip()[:80]
    db.session.commit()
    return user


def close_invitations(user: User) -> None:
    """Spend the user's open invitation (they found another way in)."""
    db.session.execute(
        sa.update(AccountLink)
        .where(
            AccountLink.user_id == user.id,
            AccountLink.purpose == "invite",
            AccountLink.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    db.session.commit()


def has_open_invitation(user: User) -> bool:
    return bool(
        db.session.scalar(
            sa.select(
                sa.exists().where(
                    AccountLink.user_id == user.id,
                    AccountLink.purpose == "invite",
                    AccountLink.used_at.is_(None),
                    AccountLink.expires_at > utcnow(),
                )
            )
        )
    )
