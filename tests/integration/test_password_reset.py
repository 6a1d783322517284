"""Forgot password: a one-time link by mail, with the same answer whether or not the email has an account."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ..conftest import PASSWORD, AuthActions
from ..fakes.smtp import FakeSmtp


@pytest.fixture(scope="module")
def smtp() -> Iterator[FakeSmtp]:
    with FakeSmtp() as server:
        yield server


@pytest.fixture
def app_config(smtp: FakeSmtp) -> dict[str, Any]:
    smtp.clear()
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "MAIL_SECURITY": "none",
        "MAIL_FROM": "BA Assistant <ba@team.example>",
        "PUBLIC_URL": "https://ba.team.example/",
    }


def _ask(app: Flask, email: str):
    return app.test_client().post("/forgot", data={"email": email})


def test_the_log_in_page_offers_it_when_mail_is_set_up(client: FlaskClient) -> None:
    assert "Forgot your password?" in client.get("/login").get_data(as_text=True)


def test_a_reset_by_mail(app: Flask, client: FlaskClient, auth: AuthActions, smtp: FakeSmtp) -> None:
    auth.register()
    known, unknown = _ask(app, "ANA@example.com"), _ask(app, "nobody@example.com")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"] == "/login"
    [message] = smtp.wait_for(1)
    assert message["To"] == "ana@example.com" and message["From"] == "BA Assistant <ba@team.example>"
    link = re.search(r"https://ba\.team\.example(/reset/\S+)", message.get_content())
    assert link, message.get_content()
    new = "a fresh long password"
    stranger = app.test_client()
    response = stranger.post(link[1], data={"password": new, "confirm": new})
    assert response.status_code == 303
    assert client.get("/settings").status_code == 303, "the old session ended"
    assert AuthActions(app.test_client()).login(password=PASSWORD).status_code == 422
    assert AuthActions(app.test_client()).login(password=new).status_code == 303
    assert stranger.get(link[1]).status_code == 410


def test_the_same_answer_for_an_unknown_email(app: Flask, smtp: FakeSmtp) -> None:
    client = app.test_client()
    response = client.post("/forgot", data={"email": "nobody@example.com"})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "If an account here uses that email, a link to choose a new password is on its way." in page
    with pytest.raises(AssertionError):
        smtp.wait_for(1, timeout=0.3)


def test_without_mail_there_is_no_forgot_page(database_url: str) -> None:
    from webapp.extensions import db

    from ..conftest import make_app

    app = make_app(database_url)
    assert app.test_client().get("/forgot").status_code == 404
    assert "Forgot your password?" not in app.test_client().get("/login").get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()
