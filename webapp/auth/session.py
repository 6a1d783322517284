"""Flask-Login wiring: loading the user and answering logged-out requests."""

from __future__ import annotations

from flask import Flask, Response, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager

from ..extensions import db
from ..htmx import redirect_client
from ..models import User


def _load_user(user_id: str) -> User | None:
    return db.session.get(User, user_id)


def _unauthorized() -> Response:
    # HX-Redirect, so the log-in page replaces the whole page instead of landing in a fragment.
    next_url = request.headers.get("HX-Current-URL") or request.full_path.rstrip("?")
    response = redirect_client(url_for("auth.login", next=next_url))
    if response.status_code == 204:
        response.status_code = 401
    return response


class SessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came over https."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def init_login(app: Flask, manager: LoginManager) -> None:
    app.session_interface = SessionInterface()
    manager.init_app(app)
    manager.login_view = "auth.login"
    manager.user_loader(_load_user)
    manager.unauthorized_handler(_unauthorized)
