"""Settings, read from environment variables in one place."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

PROVIDER_PREFIXES = ("ANTHROPIC", "GEMINI", "OPENAI", "DEEPSEEK")


class ConfigurationError(RuntimeError):
    """Settings that cannot work together; the server refuses to start and says why."""


def check(config: dict[str, Any] | Any) -> None:
    """Refuse settings that would lose replies (gunicorn.conf.py applies the same rule before forking)."""
    workers = config["WEB_WORKERS"]
    if workers > 1 and not config["REDIS_URL"]:
        raise ConfigurationError(
            f"WEB_WORKERS is {workers} but REDIS_URL is not set. Several processes share replies' streams "
            "through Redis: set REDIS_URL, or run one process (WEB_WORKERS=1).")


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
    settings: dict[str, str | None] = {}
    for prefix in PROVIDER_PREFIXES:
        for suffix in ("API_KEY", "BASE_URL", "MODEL"):
            settings[f"{prefix}_{suffix}"] = os.environ.get(f"{prefix}_{suffix}") or None
    for suffix in ("BASE_URL", "MODEL", "API_KEY", "CONTEXT_WINDOW"):
        key = f"OPENAI_COMPATIBLE_{suffix}"
        settings[key] = os.environ.get(key) or None
    return settings


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain PostgreSQL URLs (SQLAlchemy would pick psycopg2)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def engine_options(database_url: str) -> dict[str, Any]:
    # A database server can drop idle connections (restarts, proxies); a SQLite file cannot,
    # and pinging it before every checkout would only cost time on the reply path. A SQLite
    # connection costs no server anything, and one may wait its turn to write for a while: a
    # pool as large as the requests and replies in flight keeps the others from waiting on it.
    if database_url.startswith("sqlite"):
        in_memory = database_url.rstrip("/") in ("sqlite:", "sqlite:/") or ":memory:" in database_url
        return {} if in_memory else {"pool_size": 5, "max_overflow": 35}
    return {"pool_pre_ping": True, "connect_args": {"connect_timeout": 5}}


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
        "DEFAULT_PROVIDER": os.environ.get("DEFAULT_PROVIDER") or "offline",
        "USER_MONTHLY_BUDGET_USD": _env_float("USER_MONTHLY_BUDGET_USD", 50.0),
        "LLM_CONNECT_TIMEOUT": _env_float("LLM_CONNECT_TIMEOUT", 10.0),
        "LLM_READ_TIMEOUT": _env_float("LLM_READ_TIMEOUT", 120.0),
        "LLM_MAX_RETRIES": _env_int("LLM_MAX_RETRIES", 2),
        # A reply mostly waits on its provider; fewer runners than stream threads (WEB_THREADS)
        # would queue replies behind each other while their streams sit open.
        "CHAT_WORKERS": _env_int("CHAT_WORKERS", 128),
        # Same variable gunicorn.conf.py reads: with one process, a reply nobody runs has died.
        "WEB_WORKERS": _env_int("WEB_WORKERS", 1),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO").upper(),
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL") or "memory://",
        "RATELIMIT_LOGIN": os.environ.get("RATELIMIT_LOGIN") or "10 per minute;50 per hour",
        **_provider_settings(),
    }


class Defaults:
    """Settings that are not taken from the environment."""

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # A chat page may stay open for hours; the token is still bound to the session.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_HEADERS = ["X-CSRFToken"]
    RATELIMIT_HEADERS_ENABLED = True
