"""Settings, read from environment variables in one place."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from .database import CooperativeConnection
from .llm.specs import setting_names


class ConfigurationError(RuntimeError):
    """Settings that cannot work together; the server refuses to start and says why."""


def check(config: dict[str, Any] | Any) -> None:
    """Refuse settings that would lose replies (gunicorn.conf.py applies the same rule before forking)."""
    workers = config["WEB_WORKERS"]
    if workers > 1 and not config["REDIS_URL"]:
        raise ConfigurationError(
            f"WEB_WORKERS is {workers} but REDIS_URL is not set. Several processes share replies' streams "
            "through Redis: set REDIS_URL, or run one process (WEB_WORKERS=1)."
        )


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def _provider_settings() -> dict[str, str | None]:
    return {name: os.environ.get(name) or None for name in setting_names()}


def _env_list(name: str) -> tuple[str, ...]:
    return tuple(item.strip().lower() for item in os.environ.get(name, "").split(",") if item.strip())


def _account_settings() -> dict[str, Any]:
    """Sign-in, single sign-on, mail and the security log."""
    settings: dict[str, Any] = {
        "TRUSTED_PROXIES": _env_int("TRUSTED_PROXIES", 0),
        "LOCAL_LOGIN": _env_bool("LOCAL_LOGIN", True),
        "ALLOWED_EMAIL_DOMAINS": _env_list("ALLOWED_EMAIL_DOMAINS"),
        "GOOGLE_ISSUER": os.environ.get("GOOGLE_ISSUER") or "https://accounts.google.com",
        "MICROSOFT_AUTHORITY": os.environ.get("MICROSOFT_AUTHORITY") or "https://login.microsoftonline.com",
        "MICROSOFT_TENANT": os.environ.get("MICROSOFT_TENANT") or "common",
        "OIDC_NAME": os.environ.get("OIDC_NAME") or "Single sign-on",
        "MAIL_PORT": _env_int("MAIL_PORT", 587),
        "MAIL_SECURITY": (os.environ.get("MAIL_SECURITY") or "starttls").lower(),
        "MAIL_FROM": os.environ.get("MAIL_FROM") or "BA Assistant <ba-assistant@localhost>",
        "SECURITY_LOG_DAYS": _env_int("SECURITY_LOG_DAYS", 365),
    }
    for name in (
        "GOOGLE_CLIENT_ID",
        "GOOGLE_CLIENT_SECRET",
        "MICROSOFT_CLIENT_ID",
        "MICROSOFT_CLIENT_SECRET",
        "OIDC_ISSUER",
        "OIDC_CLIENT_ID",
        "OIDC_CLIENT_SECRET",
        "MAIL_SERVER",
        "MAIL_USERNAME",
        "MAIL_PASSWORD",
        "PUBLIC_URL",
    ):
        settings[name] = os.environ.get(name) or None
    return settings


def _import_settings() -> dict[str, Any]:
    """Limits on reading uploaded files (see webapp.imports and the README)."""
    return {
        "IMPORT_MAX_MEMORY_MB": _env_int("IMPORT_MAX_MEMORY_MB", 1024),
        "IMPORT_TIMEOUT_S": _env_float("IMPORT_TIMEOUT_S", 120.0),
        "IMPORT_JOBS_PER_USER": _env_int("IMPORT_JOBS_PER_USER", 2),
        "IMPORT_WORKERS": _env_int("IMPORT_WORKERS", 2),
        "IMPORT_LEASE_S": _env_float("IMPORT_LEASE_S", 30.0),
        "IMPORT_QUEUE": os.environ.get("IMPORT_QUEUE") or "imports",
        "IMPORT_MAX_UNZIPPED_MB": _env_int("IMPORT_MAX_UNZIPPED_MB", 100),
        "IMPORT_MAX_CELLS": _env_int("IMPORT_MAX_CELLS", 5_000_000),
        "IMPORT_PDF_MAX_OPERATORS": _env_int("IMPORT_PDF_MAX_OPERATORS", 100_000),
        "IMPORT_OCR": _env_bool("IMPORT_OCR", True),
        "TESSERACT_CMD": os.environ.get("TESSERACT_CMD") or "tesseract",
        "IMPORT_OCR_LANGUAGES": os.environ.get("IMPORT_OCR_LANGUAGES") or "eng",
        "IMPORT_OCR_MAX_PAGES": _env_int("IMPORT_OCR_MAX_PAGES", 50),
    }


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain PostgreSQL URLs (SQLAlchemy would pick psycopg2)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def engine_options(database_url: str) -> dict[str, Any]:
    # A database server can drop idle connections (restarts, proxies); a SQLite file cannot,
    # and pinging it before every checkout would only cost time on the reply path. A SQLite
    # connection costs no server anything, and one may wait its turn to write for a while: a
    # pool as large as the requests and replies in flight keeps the others from waiting on it,
    # and keeping them saves opening one (and its pragmas) for each reply's end in a burst.
    if database_url.startswith("sqlite"):
        in_memory = database_url.rstrip("/") in ("sqlite:", "sqlite:/") or ":memory:" in database_url
        if in_memory:
            return {}
        return {"pool_size": 20, "max_overflow": 60, "connect_args": {"factory": CooperativeConnection}}
    # A server that does not answer must not hold a request (or a health check) for minutes.
    # Under gevent a connection is held across waits, while a thousand streams take their turns:
    # a pool of 15 (SQLAlchemy's default) left replies waiting seconds for one. Two processes of 40
    # stay within PostgreSQL's default max_connections (100).
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 30, "connect_args": {"connect_timeout": 5}}


def load_secret_key(instance_path: Path) -> str:
    """Return a secret key generated once into the instance folder.

    A hard-coded fallback would let anyone forge sessions; a key generated per start
    would log everyone out on every restart.
    """
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def from_environment(instance_path: Path) -> dict[str, Any]:
    """Build the app's configuration from the environment."""
    max_upload_mb = _env_int("MAX_UPLOAD_MB", 25)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'ba_assistant.db'}"
    database_url = normalise_database_url(database_url)
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "MAX_UPLOAD_MB": max_upload_mb,
        # Whole request, so several files of the per-file limit fit in one upload.
        "MAX_CONTENT_LENGTH": max_upload_mb * 1024 * 1024 * 4 + 1024 * 1024,
        "MAX_DOCUMENTS_PER_PROJECT": _env_int("MAX_DOCUMENTS_PER_PROJECT", 500),
        "ALLOW_REGISTRATION": _env_bool("ALLOW_REGISTRATION", True),
        # Unset: the first configured provider (the offline one when no other is).
        "DEFAULT_PROVIDER": os.environ.get("DEFAULT_PROVIDER") or None,
        "USER_MONTHLY_BUDGET_USD": _env_float("USER_MONTHLY_BUDGET_USD", 50.0),
        "LLM_CONNECT_TIMEOUT": _env_float("LLM_CONNECT_TIMEOUT", 10.0),
        "LLM_READ_TIMEOUT": _env_float("LLM_READ_TIMEOUT", 120.0),
        "LLM_MAX_RETRIES": _env_int("LLM_MAX_RETRIES", 2),
        # A thread's title is asked for this long after its reply ends, out of the way of the
        # reply's own stream (which may open only then) and of the first tokens of other replies.
        "CHAT_TITLE_DELAY": _env_float("CHAT_TITLE_DELAY", 0.25),
        # A reply mostly waits on its provider; too few runners would queue replies behind each
        # other while their streams sit open. Under the gevent worker each is a greenlet of a few
        # kilobytes, so a process runs as many as its open streams can watch.
        "CHAT_WORKERS": _env_int("CHAT_WORKERS", 1000),
        "MAX_STREAMS_PER_USER": _env_int("MAX_STREAMS_PER_USER", 8),
        # Same variable gunicorn.conf.py reads: with one process, a reply nobody runs has died.
        "WEB_WORKERS": _env_int("WEB_WORKERS", 1),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO").upper(),
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL") or "memory://",
        "RATELIMIT_LOGIN": os.environ.get("RATELIMIT_LOGIN") or "10 per minute;50 per hour",
        "CHAT_RATE_LIMIT": os.environ.get("CHAT_RATE_LIMIT") or "30 per minute",
        "UPLOAD_RATE_LIMIT": os.environ.get("UPLOAD_RATE_LIMIT") or "20 per minute",
        **_import_settings(),
        **_provider_settings(),
        **_account_settings(),
    }


class Defaults:
    """Settings that are not taken from the environment."""

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Each remembered sign-in also ends on the server after this long (auth/login_sessions.py).
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    # A chat page may stay open for hours; the token is still bound to the session.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_HEADERS = ["X-CSRFToken"]
    RATELIMIT_HEADERS_ENABLED = True
    # Without Redis for a while, count in this process's memory rather than fail the request;
    # and a Redis that does not answer must not hold a request for long.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
