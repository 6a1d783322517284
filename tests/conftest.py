"""Fixtures shared by every test: the app on each database, a client, and an auth helper."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from webapp import create_app
from webapp.extensions import db

from .databases import fresh_postgres_database, require_postgres, sqlite_url

PASSWORD = "correct horse battery"


def make_app(database_url: str, **overrides: Any) -> Flask:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "REDIS_URL": None,
        # Scripted fakes answer in order: the title's request comes right after its reply's.
        "CHAT_TITLE_DELAY": 0,
        **overrides,
    }
    return create_app(config)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database built by the migrations, once per backend per test run."""
    with ExitStack() as stack:
        if request.param == "postgresql":
            require_postgres()
            url = stack.enter_context(fresh_postgres_database())
        else:
            url = sqlite_url(tmp_path_factory.mktemp("sqlite"))
        app = make_app(url)
        with app.app_context():
            upgrade()
            db.engine.dispose()
        yield url


def _empty_all_tables() -> None:
    tables = db.metadata.sorted_tables
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(table.name for table in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in reversed(tables):
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Per-test config overrides; a test module may redefine this fixture."""
    return {}


@pytest.fixture
def app(database_url: str, app_config: dict[str, Any]) -> Iterator[Flask]:
    app = make_app(database_url, **app_config)
    yield app
    app.extensions["imports"].shutdown()
    app.extensions["chat.runner"].shutdown()
    app.extensions["llm"].close()
    with app.app_context():
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class AuthActions:
    """Register and log in through the real forms."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def register(
        self, email: str = "ana@example.com", name: str = "Ana", password: str = PASSWORD, csrf_token: str | None = None
    ):
        """Create the account, then log in to it (registering alone does not, so that it cannot tell
        whether an email is taken); the log-in's answer."""
        token = {"csrf_token": csrf_token} if csrf_token else {}
        created = self._client.post(
            "/register",
            data={"email": email, "display_name": name, "password": password, "confirm": password, **token},
        )
        assert created.status_code == 303, created.get_data(as_text=True)
        return self.login(email, password, csrf_token=csrf_token)

    def login(self, email: str = "ana@example.com", password: str = PASSWORD, csrf_token: str | None = None):
        token = {"csrf_token": csrf_token} if csrf_token else {}
        return self._client.post("/login", data={"email": email, "password": password, **token})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def user(client: FlaskClient, auth: AuthActions):
    """A registered user, logged in on `client`."""
    auth.register()
    with client.application.app_context():
        from webapp.auth.service import find_by_email

        return find_by_email("ana@example.com")


def other_client(app: Flask, email: str = "ben@example.com") -> FlaskClient:
    """A second, separately logged-in user."""
    second = app.test_client()
    AuthActions(second).register(email=email, name="Ben")
    return second


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(r'"X-CSRFToken": "([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)
