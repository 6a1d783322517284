"""Ways in through single sign-on: who an ID token's subject is here, linking and unlinking. Flask-free."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from ..models import Identity, User, utcnow
from . import links, service


@dataclass(frozen=True, slots=True)
class SsoClaims:
    """What a verified ID token says about its user."""

    provider: str
    label: str
    subject: str
    email: str | None
    email_verified: bool
    name: str


class SsoRefused(Exception):
    """The sign-in is valid but not allowed here; `message` is for the user, `reason` for the log."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def find(provider: str, subject: str) -> Identity | None:
    return db.session.scalar(sa.select(Identity).where(Identity.provider == provider, Identity.subject == subject))


def sign_in_user(claims: SsoClaims, *, registration_open: bool, allowed_domains: tuple[str, ...]) -> tuple[User, bool]:
    """The user these claims sign in, linked or created as needed; and whether the account is new.

    A subject seen before is its user. A new one needs an email the provider has verified: it is
    linked to the account with that email, or starts a new account while registration is open.
    """
    identity = find(claims.provider, claims.subject)
    if identity is not None:
        user = db.session.get_one(User, identity.user_id)
        _check_may_sign_in(user.email, user, allowed_domains)
        identity.last_used_at = utcnow()
        db.session.commit()
        return user, False
    email = _verified_email(claims)
    user = service.find_by_email(email)
    _check_may_sign_in(email, user, allowed_domains)
    created = user is None
    if user is None:
        if not registration_open:
            raise SsoRefused(
                "no account for this email", f"No account here uses {email}. Ask your administrator for an invitation."
            )
        user = service.create_user(email=email, display_name=claims.name, password=None)
    _add(user, claims)
    links.close_invitations(user)
    return user, created


def _verified_email(claims: SsoClaims) -> str:
    if not claims.email or not claims.email_verified:
        raise SsoRefused(
            "email not verified",
            f"Your {claims.label} account has no verified email address, "
            "so it cannot sign you in here. Sign in another way and link it in Settings.",
        )
    return claims.email


def _check_may_sign_in(email: str, user: User | None, allowed_domains: tuple[str, ...]) -> None:
    if not service.email_domain_allowed(email, allowed_domains):
        raise SsoRefused(
            f"domain not allowed: {email}",
            f"Sign-in here is for addresses at {', '.join(allowed_domains)}; {email} is not one of them.",
        )
    if user is not None and not user.is_active:
        raise SsoRefused("account disabled", "This account is disabled. Ask your administrator.")


def _add(user: User, claims: SsoClaims) -> Identity:
    identity = Identity(
        user_id=user.id, provider=claims.provider, subject=claims.subject, email=claims.email, last_used_at=utcnow()
    )
    db.session.add(identity)
    db.session.commit()
    return identity


def link(user: User, claims: SsoClaims) -> Identity:
    """Add the claims' subject as a way into `user`'s account."""
    identity = find(claims.provider, claims.subject)
    if identity is not None and identity.user_id == user.id:
        raise SsoRefused("already linked", f"This {claims.label} account is already linked to yours.")
    if identity is not None:
        raise SsoRefused(
            "linked to another user", f"This {claims.label} account is already linked to another user here."
        )
    if any(own.provider == claims.provider for own in of_user(user)):
        raise SsoRefused(
            "provider already linked",
            f"You already have a {claims.label} account linked. Unlink it first to link another.",
        )
    return _add(user, claims)


def of_user(user: User) -> list[Identity]:
    return list(
        db.session.scalars(sa.select(Identity).where(Identity.user_id == user.id).order_by(Identity.created_at))
    )


def ways_in(user: User, *, password_counts: bool, providers: set[str]) -> int:
    """How many ways the user has to sign in: the password (where local log-in is on) and each
    identity of a configured provider."""
    identities = sum(1 for identity in of_user(user) if identity.provider in providers)
    return identities + (1 if password_counts and user.has_password else 0)


def unlink(user: User, identity_id: str, *, password_counts: bool, providers: set[str]) -> Identity | None:
    """Remove one of the user's identities, never their last way in; None when it is not theirs."""
    identity = db.session.get(Identity, identity_id)
    if identity is None or identity.user_id != user.id:
        return None
    if identity.provider in providers and ways_in(user, password_counts=password_counts, providers=providers) <= 1:
        raise service.AccountError(
            "identity", "This is your only way to sign in. Set a password or link another account before unlinking it."
        )
    db.session.delete(identity)
    db.session.commit()
    return identity
