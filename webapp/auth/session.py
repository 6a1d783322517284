"""Flask-Login wiring: signing a browser in and out, loading its user, answering logged-out requests."""

from __future__ import annotations

from flask import Flask, Response, request, session, url_for
from flask_login import LoginManager, current_user, login_user, logout_user

from ..htmx import redirect_client
from ..models import User
from ..redirects import path_of
from . import login_sessions
from .cookies import SessionInterface

# Where Flask-Login keeps the signed-in identity: for us, the session's token (see login_sessions).
_TOKEN_KEY = "_user_id"


def sign_in(user: User, *, remember: bool = False, method: str = "password") -> None:
    """Start a signed-in session for `user` in this browser."""
    token = login_sessions.start(
        user, remember=remember, method=method, ip=request.remote_addr, user_agent=request.user_agent.string
    )
    login_user(user, remember=remember, duration=login_sessions.REMEMBERED_FOR)
    # Both cookies carry the token instead of the id, so ending the session ends every copy of them.
    session[_TOKEN_KEY] = token


def sign_out() -> None:
    """End this browser's session."""
    login_sessions.end(current_token())
    logout_user()


def sign_out_everywhere(user: User) -> None:
    """End every session of `user`, this browser's too."""
    login_sessions.end_all(user)
    if current_user.is_authenticated and current_user.id == user.id:
        logout_user()


def renew(user: User) -> None:
    """End every session of `user` and sign this browser in again, as it was (after a password change)."""
    current = login_sessions.find(current_token() or "")
    remember, method = (current.remember, current.method) if current else (False, "password")
    login_sessions.end_all(user)
    sign_in(user, remember=remember, method=method)


def current_token() -> str | None:
    token = session.get(_TOKEN_KEY)
    return token if isinstance(token, str) else None


def _load_user(token: str) -> User | None:
    row = login_sessions.find(token)
    return row.user if row is not None else None


def _load_user_early() -> None:
    # The loader may write (a session's last use, an expired one's removal); loading before the
    # view keeps those commits apart from the view's own changes.
    if request.endpoint != "static":
        current_user._get_current_object()


def _unauthorized() -> Response:
    # HX-Redirect, so the log-in page replaces the whole page instead of landing in a fragment.
    current = request.headers.get("HX-Current-URL")
    next_url = path_of(current) if current else request.full_path.rstrip("?")
    response = redirect_client(url_for("auth.login", next=next_url))
    if response.status_code == 204:
        response.status_code = 401
    return response


def init_login(app: Flask, manager: LoginManager) -> None:
    app.session_interface = SessionInterface()
    manager.init_app(app)
    manager.login_view = "auth.login"
    manager.user_loader(_load_user)
    manager.unauthorized_handler(_unauthorized)
    app.before_request(_load_user_early)
