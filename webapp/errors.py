"""Error pages, and error fragments for HTMX requests."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, g, render_template, request, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from .extensions import db, login_manager
from .htmx import is_htmx
from .logs import request_id
from .redirects import local_path

log = logging.getLogger(__name__)

_EXPLANATIONS = {
    400: (
        "Something in that request was not right",
        "The form may have expired or been sent twice. Reload the page and try again.",
    ),
    401: ("Your session ended", "Log in again to carry on; what you typed in a chat is kept in this browser."),
    403: ("Not allowed", "You do not have access to this."),
    404: ("Not found", "There is nothing here, or it belongs to someone else."),
    405: ("Not allowed", "That action is not available here."),
    413: ("Too large", "That upload is larger than this server accepts."),
    429: ("Slow down", "Too many attempts in a short time. Wait a minute and try again."),
    500: ("Something went wrong", "The error has been logged. Try again in a moment."),
    503: (
        "Unavailable for a moment",
        "The database cannot be reached right now. Nothing saved is lost; "
        "replies being written are kept. Try again in a moment.",
    ),
}
# The database is down, restarting, or busy beyond its waits: a moment's outage, not a bug.
_DATABASE_UNAVAILABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)


# Forms that a signed-out visitor sends: a missing token there is not a session that ended.
_SIGNED_OUT_FORMS = frozenset({"auth.login", "auth.register"})


def _render_error(code: int, detail: str | None = None, **context: str) -> tuple[str, int]:
    title, explanation = _EXPLANATIONS.get(code, (f"Error {code}", ""))
    template = "errors/_error.html" if is_htmx() else "errors/error.html"
    return render_template(
        template, code=code, title=title, explanation=detail or explanation, request_id=request_id(), **context
    ), code


def _page_behind_request() -> str:
    """The page the user was on (the form's page, for a POST), as a path on this site."""
    if request.method == "GET" and not is_htmx():
        return request.full_path.rstrip("?")
    page = urlsplit(request.headers.get("HX-Current-URL") or request.referrer or "")
    home = url_for("home.index")
    return local_path(page.path, home) if page.netloc == request.host else home


def _handle_http(error: HTTPException) -> tuple[str, int]:
    return _render_error(error.code or 500, _own_words(error))


def _own_words(error: HTTPException) -> str | None:
    """The explanation we wrote for this refusal, if any; never a library's default text."""
    if isinstance(error, RateLimitExceeded):
        return error.description if error.limit.error_message else None
    if error.code == 413 and error.description != type(error).description:
        return error.description
    return None


def _handle_csrf(error: CSRFError) -> tuple[str, int]:
    # The token lives in the session: without a signed-in user, the session has ended.
    if not current_user.is_authenticated and request.endpoint not in _SIGNED_OUT_FORMS:
        return _render_error(401, login_url=url_for("auth.login", next=_page_behind_request()))
    return _render_error(400, "Your session's security token is missing or invalid. Reload the page and try again.")


def _handle_unexpected(error: Exception) -> tuple[str, int] | tuple[str, int, dict[str, str]]:
    if isinstance(error, HTTPException):
        return _handle_http(error)
    if isinstance(error, _DATABASE_UNAVAILABLE):
        log.warning("database unavailable", exc_info=error)
        db.session.close()
        # Nor can the page load the user (Flask-Login's per-request cache): it is shown as to a visitor.
        g._login_user = login_manager.anonymous_user()
        page, code = _render_error(ServiceUnavailable.code)
        return page, code, {"Retry-After": "5"}
    log.exception("unhandled error", exc_info=error)
    db.session.rollback()
    return _render_error(InternalServerError.code)


def init_errors(app: Flask) -> None:
    app.register_error_handler(CSRFError, _handle_csrf)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(Exception, _handle_unexpected)
