"""Error pages, and error fragments for HTMX requests."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask, g, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from .extensions import db, login_manager
from .htmx import is_htmx

log = logging.getLogger(__name__)

_EXPLANATIONS = {
    400: ("Something in that request was not right", "The form may have expired or been sent twice. Reload the page and try again."),
    403: ("Not allowed", "You do not have access to this."),
    404: ("Not found", "There is nothing here, or it belongs to someone else."),
    405: ("Not allowed", "That action is not available here."),
    413: ("Too large", "That upload is larger than this server accepts."),
    429: ("Slow down", "Too many attempts in a short time. Wait a minute and try again."),
    500: ("Something went wrong", "The error has been logged. Try again in a moment."),
    503: ("Unavailable for a moment", "The database cannot be reached right now. Nothing saved is lost; "
                                      "replies being written are kept. Try again in a moment."),
}
# The database is down, restarting, or busy beyond its waits: a moment's outage, not a bug.
_DATABASE_UNAVAILABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)


def _render_error(code: int, detail: str | None = None) -> tuple[str, int]:
    title, explanation = _EXPLANATIONS.get(code, (f"Error {code}", ""))
    template = "errors/_error.html" if is_htmx() else "errors/error.html"
    return render_template(template, code=code, title=title, explanation=detail or explanation), code


def _handle_http(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    detail = None
    if code == 413:
        detail = error.description if error.description != type(error).description else None
    return _render_error(code, detail)


def _handle_csrf(error: CSRFError) -> tuple[str, int]:
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
