"""Structured logging: one JSON object per line, plus a line per request.

Every line written during a request carries its id (also sent back as `X-Request-ID` and shown
on error pages) and the signed-in user's id once known. Configured secrets never reach a line.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, g, has_request_context, request, session
from flask_login import current_user

# Attributes every LogRecord has; anything else was passed through `extra=`.
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
# An id set by the proxy in front (nginx's $request_id) is kept, so that its log and ours match;
# anything else a client sends is replaced, so that no one can write into our logs through it.
_INCOMING_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# Shapes of provider keys, caught even when they are not this server's own (a key a provider
# echoes back, a key pasted into a message that an error repeats).
_KEY_SHAPES = re.compile(r"\b(?:sk-[A-Za-z0-9_-]{16,}|AIza[0-9A-Za-z_-]{30,})")
REDACTED = "[redacted]"
# Health checks come every few seconds from every proxy and orchestrator.
_QUIET_ENDPOINTS = {"static", "health.alive", "health.ready"}


class JSONFormatter(logging.Formatter):
    """One JSON object per record, with every configured secret replaced by `[redacted]`."""

    def __init__(self, secrets_to_hide: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so that a secret containing another is replaced whole.
        self._secrets = sorted({s for s in secrets_to_hide if len(s) >= 6}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return self.redact(json.dumps(entry, default=str))

    def redact(self, line: str) -> str:
        for secret in self._secrets:
            line = line.replace(secret, REDACTED).replace(json.dumps(secret)[1:-1], REDACTED)
        return _KEY_SHAPES.sub(REDACTED, line)


class RequestFields(logging.Filter):
    """Adds the request's id and the signed-in user's id to each record written during a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = request_id()
            if getattr(record, "user_id", None) is None:
                record.user_id = _known_user_id()
        return True


def request_id() -> str:
    """The current request's id, made on first use."""
    if "request_id" not in g:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _INCOMING_ID.fullmatch(incoming) else secrets.token_hex(8)
    return g.request_id


def _known_user_id() -> str | None:
    # The user loaded for this request, else the id its signed session names: loading the user
    # here would query the database from inside a log call.
    user = g.get("_login_user")
    if user is not None:
        return user.get_id() if user.is_authenticated else None
    return session.get("_user_id")


def configured_secrets(config: Mapping[str, Any]) -> list[str]:
    """The values in `config` that must never be written to a log."""
    found = [str(value) for key, value in config.items() if value and (key.endswith("_API_KEY") or key == "SECRET_KEY")]
    for key in ("SQLALCHEMY_DATABASE_URI", "REDIS_URL"):
        if config.get(key):
            password = sa.make_url(config[key]).password
            found += [str(password)] if password else []
    return found


def init_logging(app: Flask) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter(configured_secrets(app.config)))
    handler.addFilter(RequestFields())
    root = logging.getLogger("webapp")
    root.handlers[:] = [handler]
    root.setLevel(app.config["LOG_LEVEL"])
    root.propagate = False
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(app.config["LOG_LEVEL"])
    app.before_request(_start_request)
    app.after_request(_log_request)


def _start_request() -> None:
    g.request_started = time.perf_counter()
    request_id()


def _log_request(response: Response) -> Response:
    response.headers["X-Request-ID"] = request_id()
    if request.endpoint in _QUIET_ENDPOINTS and response.status_code < 400:
        return response
    elapsed_ms = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
    logging.getLogger("webapp.request").info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(elapsed_ms, 1),
            "user_id": current_user.get_id() if current_user else None,
        },
    )
    return response
