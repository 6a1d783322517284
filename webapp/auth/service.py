"""Account rules, independent of Flask's request globals."""

from __future__ import annotations

import functools

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from .. import timezones
from ..extensions import db
from ..models import THEMES, User

MIN_PASSWORD_LENGTH = 10


@functools.cache
def _dummy_hash() -> str:
    """Compared against when the email is unknown, so a miss costs as long as a wrong password."""
    return generate_password_hash("not-a-real-password", method="scrypt")


class AccountError(Exception):
    """A rule was broken; `field` names the form field it belongs to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def find_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password", f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    return generate_password_hash(password, method="scrypt")


def email_domain_allowed(email: str, allowed_domains: tuple[str, ...]) -> bool:
    """Whether `email` is at one of `allowed_domains` (any domain when there are none)."""
    domain = email.strip().lower().rpartition("@")[2]
    return not allowed_domains or domain in allowed_domains


def check_email_domain(email: str, allowed_domains: tuple[str, ...]) -> None:
    if not email_domain_allowed(email, allowed_domains):
        listed = ", ".join(allowed_domains)
        raise AccountError("email", f"Accounts on this server are for addresses at {listed}.")


def create_user(*, email: str, display_name: str, password: str | None, is_admin: bool | None = None) -> User:
    """Create an account (without a password when `password` is None); the first account is an admin."""
    password_hash = hash_password(password) if password is not None else ""
    if find_by_email(email) is not None:
        raise AccountError("email", "An account with this email already exists.")
    if is_admin is None:
        is_admin = db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    user = User(
        email=email,
        display_name=display_name.strip()[:80] or email.partition("@")[0],
        password_hash=password_hash,
        is_admin=is_admin,
    )
    db.session.add(user)
    db.session.commit()
    return user


def register(*, email: str, display_name: str, password: str, allowed_domains: tuple[str, ...] = ()) -> User | None:
    """Create an account from the sign-up form; None when the email was taken.

    The caller answers both alike, so the form cannot be used to learn who has an account here;
    a taken email costs the same hashing as a new account.
    """
    check_email_domain(email, allowed_domains)
    if find_by_email(email) is not None:
        hash_password(password)
        return None
    return create_user(email=email, display_name=display_name, password=password)


def authenticate(email: str, password: str) -> User | None:
    """Return the user for these credentials, or None without saying which part was wrong."""
    user = find_by_email(email)
    if user is None or not user.has_password:
        check_password_hash(_dummy_hash(), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def update_profile(
    user: User, *, display_name: str, theme: str, default_provider: str | None, timezone: str | None
) -> None:
    if theme not in THEMES:
        raise AccountError("theme", "Choose one of the listed themes.")
    zone = (timezone or "").strip() or None
    if zone is not None and not timezones.is_valid(zone):
        raise AccountError(
            "timezone",
            "Pick a time zone from the list, such as Europe/Berlin, or leave it empty to use your browser's.",
        )
    user.display_name = display_name.strip()
    user.theme = theme
    user.default_provider = default_provider or None
    user.timezone = zone
    db.session.commit()


def detected_timezone(user: User, name: str) -> bool:
    """Take the browser's time zone for a user who has none yet; whether it was taken."""
    if user.timezone is not None or not timezones.is_valid(name):
        return False
    user.timezone = name
    db.session.commit()
    return True


def change_password(user: User, *, current: str, new: str) -> None:
    """Change the password; a user without one (single sign-on only) sets one without `current`."""
    if user.has_password and not check_password_hash(user.password_hash, current):
        raise AccountError("current_password", "That is not your current password.")
    try:
        user.password_hash = hash_password(new)
    except AccountError as error:
        raise AccountError("new_password", error.message) from error
    db.session.commit()


def set_password(user: User, password: str) -> None:
    """Set a new password without the old one (a reset or an accepted invitation)."""
    user.password_hash = hash_password(password)
    db.session.commit()
