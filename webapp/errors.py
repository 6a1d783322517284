"""Error pages, and error fragments for HTMX requests."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db
from .htmx import is_htmx
from .logs import request_id

log = logging.getLogger(__name__)

_EXPLANATIONS = {
    400: ("Something in that request was not right", "The form may have expired or been sent twice. Reload the page and try again."),
    403: ("Not allowed", "You do not have access to this."),
    404: ("Not found", "There is nothing here, or it belongs to someone else."),
    405: ("Not allowed", "That action is not available here."),
    413: ("Too large", "That upload is larger than this server accepts."),
    429: ("Slow down", "Too many attempts in a short time. Wait a minute and try again."),
    500: ("Something went wrong", "The error has been logged. Try again in a moment."),
}


def _render_error(code: int, detail: str | None = None) -> tuple[str, int]:
    title, explanation = _EXPLANATIONS.get(code, (f"Error {code}", ""))
    template = "errors/_error.html" if is_htmx() else "errors/error.html"
    return render_template(template, code=code, title=title, explanation=detail or explanation,
                           request_id=request_id()), code


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
    return _render_error(400, "Your session's security token is missing or invalid. Reload the page and try again.")


def _handle_unexpected(error: Exception) -> tuple[str, int]:
    if isinstance(error, HTTPException):
        return _handle_http(error)
    log.exception("unhandled error", exc_info=error)
    db.session.rollback()
    return _render_error(InternalServerError.code)


def init_errors(app: Flask) -> None:
    app.register_error_handler(CSRFError, _handle_csrf)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(Exception, _handle_unexpected)
