"""Behind a reverse proxy: the client's own address, scheme and host count."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from ..conftest import PASSWORD, AuthActions


@pytest.fixture
def app_config() -> dict:
    return {"TRUSTED_PROXIES": 1, "RATELIMIT_LOGIN": "3 per minute"}


def _login(client: FlaskClient, address: str, password: str):
    return client.post(
        "/login", data={"email": "ana@example.com", "password": password}, headers={"X-Forwarded-For": address}
    )


def test_failed_log_ins_from_one_address_do_not_block_another(client: FlaskClient, auth: AuthActions) -> None:
    auth.register()
    auth.logout()
    statuses = [_login(client, "203.0.113.7", "wrong password!").status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]
    assert _login(client, "198.51.100.2", PASSWORD).status_code == 303


def test_the_forwarded_scheme_and_host_are_used(client: FlaskClient) -> None:
    response = client.get("/settings", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "ba.example.com"})
    assert response.headers["Location"].startswith("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_without_trusted_proxies_forwarded_headers_are_ignored(database_url: str) -> None:
    from webapp.extensions import db

    from ..conftest import make_app

    app = make_app(database_url, RATELIMIT_LOGIN="2 per minute")
    client = app.test_client()
    statuses = [_login(client, f"203.0.113.{n}", "wrong password!").status_code for n in range(3)]
    assert statuses == [422, 422, 429]
    assert "Strict-Transport-Security" not in client.get("/login", headers={"X-Forwarded-Proto": "https"}).headers
    with app.app_context():
        db.engine.dispose()


def test_an_address_the_client_made_up_does_not_count(client: FlaskClient, auth: AuthActions) -> None:
    auth.register()
    auth.logout()
    # The proxy appends the address it saw; whatever the client sent before it is ignored.
    statuses = [_login(client, f"10.9.9.{n}, 203.0.113.7", "wrong password!").status_code for n in range(4)]
    assert statuses == [422, 422, 422, 429]
