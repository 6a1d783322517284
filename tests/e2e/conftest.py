"""Browser tests: Debian's Chromium, driven by Playwright, against the real app on a live server.

The app runs in this process on a throwaway SQLite database built by the migrations, with
CSRF protection on (as in production), a fake Anthropic server as a configured provider and a
fake Google for single sign-on.
One server and one browser serve the whole run; each test gets a fresh browser context.
"""

from __future__ import annotations

import importlib
import itertools
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask, got_request_exception
from flask_migrate import upgrade
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from webapp.auth.service import find_by_email
from webapp.extensions import db
from webapp.models import Message, Thread, utcnow

from ..chat_helpers import one_branch
from ..conftest import PASSWORD, make_app
from ..databases import sqlite_url
from ..fakes.anthropic import FakeAnthropic
from ..fakes.oidc import FakeOidcProvider

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
HERE = Path(__file__).resolve().parent


def _browser_missing_reason() -> str | None:
    if not CHROMIUM.exists():
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


# Werkzeug's server leaves a static file's handle to the collector when the browser drops the
# connection while it is being sent (navigating away while the favicon loads); not the app's leak.
_DROPPED_STATIC_FILE = "ignore:unclosed file <_io.BufferedReader name='[^']*/static/:ResourceWarning"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _browser_missing_reason()
    for item in items:
        if HERE not in item.path.parents:
            continue
        item.add_marker(pytest.mark.e2e)
        item.add_marker(pytest.mark.filterwarnings(_DROPPED_STATIC_FILE))
        if reason and os.environ.get("REQUIRE_BROWSER") != "1":
            item.add_marker(pytest.mark.skip(reason=f"{reason}; set REQUIRE_BROWSER=1 to make this a failure"))


# The live server ---------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    app: Flask
    anthropic: FakeAnthropic
    # Unhandled exceptions in requests, and errors the app logged, since the last check.
    problems: list[str] = field(default_factory=list)
    # A Google-style single sign-on provider the app is configured with.
    google: FakeOidcProvider | None = None


class _ErrorCollector(logging.Handler):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(logging.ERROR)
        self._problems = problems

    def emit(self, record: logging.LogRecord) -> None:
        self._problems.append(f"{record.name}: {record.getMessage()}")


def _build_app(tmp_path: Path, anthropic: FakeAnthropic, google: FakeOidcProvider) -> Flask:
    url = sqlite_url(tmp_path)
    app = make_app(
        url,
        TESTING=False,
        WTF_CSRF_ENABLED=True,
        ANTHROPIC_API_KEY="test-key",
        ANTHROPIC_BASE_URL=anthropic.url,
        DEFAULT_PROVIDER="offline",
        LLM_MAX_RETRIES=0,
        GOOGLE_CLIENT_ID=google.client_id,
        GOOGLE_CLIENT_SECRET=google.client_secret,
        GOOGLE_ISSUER=google.issuer,
    )
    with app.app_context():
        upgrade()
    # The provider imports its SDK on first use, which takes seconds; pay that here, not in
    # the first test whose timing matters.
    importlib.import_module("anthropic")
    return app


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real app served on a free loopback port, with a fake Anthropic and a fake Google behind it."""
    with FakeAnthropic() as anthropic, FakeOidcProvider(style="google") as google:
        app = _build_app(tmp_path_factory.mktemp("e2e"), anthropic, google)
        server = LiveServer("", app, anthropic, google=google)
        collector = _ErrorCollector(server.problems)
        logging.getLogger("webapp").addHandler(collector)

        def record_exception(sender: Flask, exception: BaseException, **extra: object) -> None:
            server.problems.append(f"unhandled {exception!r}")

        got_request_exception.connect(record_exception, app)
        http: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        server.url = f"http://127.0.0.1:{http.server_port}"
        thread = threading.Thread(target=http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield server
        finally:
            http.shutdown()
            thread.join(timeout=5)
            http.server_close()
            got_request_exception.disconnect(record_exception, app)
            logging.getLogger("webapp").removeHandler(collector)
            app.extensions["imports"].shutdown()
            app.extensions["chat.runner"].shutdown()
            app.extensions["llm"].close()
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.fixture(autouse=True)
def _no_server_errors(live_server: LiveServer) -> Iterator[None]:
    """Fail a test during which the app raised or logged an error."""
    server = live_server
    server.problems.clear()
    yield
    problems, server.problems[:] = list(server.problems), []
    assert not problems, f"the app reported errors: {problems}"


@pytest.fixture
def anthropic(live_server: LiveServer) -> Iterator[FakeAnthropic]:
    """The fake Anthropic server; every reply a test scripts must be used by its end."""
    fake = live_server.anthropic
    yield fake
    deadline = time.monotonic() + 5
    while fake.pending and time.monotonic() < deadline:
        time.sleep(0.05)
    left = fake.discard()
    assert not left, f"{left} scripted Anthropic replies were never requested"


# The browser ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole run."""
    reason = _browser_missing_reason()
    if reason:
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def viewport(request: pytest.FixtureRequest) -> dict[str, int]:
    """The window size of the test's page: parametrize it indirectly for another size."""
    return getattr(request, "param", DESKTOP)


@pytest.fixture
def page(browser: Browser, live_server: LiveServer, viewport: dict[str, int]) -> Iterator[Page]:
    """A fresh browser context and page; fails the test on a JavaScript error."""
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    context.set_default_timeout(10_000)
    page = context.new_page()
    script_errors: list[str] = []

    def console_error(message: ConsoleMessage) -> None:
        # A 4xx answer is logged as "Failed to load resource"; tests check what such pages show.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            script_errors.append(f"{message.text} ({message.location['url']})")

    page.on("pageerror", lambda error: script_errors.append(str(error)))
    page.on("console", console_error)
    try:
        yield page
    finally:
        context.close()
    assert not script_errors, f"JavaScript errors on the page: {script_errors}"


# Accounts -----------------------------------------------------------------------

_numbers = itertools.count(1)


@dataclass(frozen=True)
class Account:
    email: str
    name: str
    password: str = PASSWORD


def new_account(name: str = "Ana") -> Account:
    """A unique account for one test (tests share the server's database)."""
    return Account(email=f"{name.lower()}{next(_numbers)}-{os.getpid()}@example.com", name=name)


def register(page: Page, account: Account) -> None:
    """Create the account through the sign-up form and log in; the browser ends up on Home."""
    page.goto("/register")
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Display name").fill(account.name)
    page.get_by_label("Password", exact=True).fill(account.password)
    page.get_by_label("Repeat password").fill(account.password)
    page.get_by_role("button", name="Create account").click()
    # Registering does not sign in (so it cannot tell who has an account): log in with it.
    page.wait_for_url("/login?*")
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("/")


@pytest.fixture
def account() -> Account:
    return new_account()


@pytest.fixture
def signed_in(page: Page, account: Account) -> Page:
    """A page whose browser is logged in as a fresh account."""
    register(page, account)
    return page


# Data made directly in the server's database -------------------------------------------


def user_id_of(server: LiveServer, account: Account) -> str:
    with server.app.app_context():
        return find_by_email(account.email).id


def seed_chat(server: LiveServer, account: Account, *, exchanges: int = 0, **fields: object) -> str:
    """A titled chat of the account's with `exchanges` finished questions and answers; return its id."""
    user_id = user_id_of(server, account)
    start = utcnow() - timedelta(hours=1)
    values = {
        "title": "Seeded chat",
        "title_locked": True,
        "model_provider": "anthropic",
        "conversation_mode": "meeting",
        **fields,
    }
    with server.app.app_context():
        thread = Thread(user_id=user_id, last_activity_at=start, **values)
        db.session.add(thread)
        db.session.flush()
        db.session.add_all(
            one_branch(
                *(
                    message
                    for number in range(exchanges)
                    for message in (
                        Message(
                            thread_id=thread.id,
                            role="user",
                            content=f"Question {number}",
                            created_at=start + timedelta(seconds=2 * number),
                        ),
                        Message(
                            thread_id=thread.id,
                            role="assistant",
                            status="complete",
                            provider="anthropic",
                            content=f"Answer {number}.\n\nA second paragraph, so that each answer takes some room.",
                            created_at=start + timedelta(seconds=2 * number + 1),
                        ),
                    )
                )
            )
        )
        db.session.commit()
        return thread.id
