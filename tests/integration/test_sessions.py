"""Sessions end when they should: old session and remember cookies are refused afterwards."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from ..conftest import PASSWORD, AuthActions


def _cookie(client: FlaskClient, name: str) -> str:
    cookie = client.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    return cookie.value


def _replay(app: Flask, **cookies: str) -> FlaskClient:
    """A fresh browser that only has these cookies, as someone who copied them would."""
    thief = app.test_client()
    for name, value in cookies.items():
        thief.set_cookie(name, value)
    return thief


def _is_signed_in(client: FlaskClient) -> bool:
    response = client.get("/settings")
    return response.status_code == 200 and "Sign out of all devices" in response.get_data(as_text=True)


def _signed_in_with_remember(client: FlaskClient, auth: AuthActions) -> dict[str, str]:
    auth.register()
    auth.logout()
    response = client.post("/login", data={"email": "ana@example.com", "password": PASSWORD, "remember": "y"})
    assert response.status_code == 303
    return {"session": _cookie(client, "session"), "remember_token": _cookie(client, "remember_token")}


def test_copied_cookies_work_while_the_session_lasts(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    cookies = _signed_in_with_remember(client, auth)
    assert _is_signed_in(_replay(app, session=cookies["session"]))
    assert _is_signed_in(_replay(app, remember_token=cookies["remember_token"]))


def test_log_out_ends_the_session_and_its_remember_cookie(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    cookies = _signed_in_with_remember(client, auth)
    auth.logout()
    assert not _is_signed_in(_replay(app, session=cookies["session"]))
    assert not _is_signed_in(_replay(app, remember_token=cookies["remember_token"]))


def test_a_password_change_ends_every_other_session(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    cookies = _signed_in_with_remember(client, auth)
    new = "a much longer secret"
    response = client.post(
        "/settings/password", data={"current_password": PASSWORD, "new_password": new, "confirm": new}
    )
    assert response.status_code == 303
    assert _is_signed_in(client), "the browser that changed the password stays signed in"
    assert not _is_signed_in(_replay(app, session=cookies["session"]))
    assert not _is_signed_in(_replay(app, remember_token=cookies["remember_token"]))


def test_sign_out_of_all_devices(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    cookies = _signed_in_with_remember(client, auth)
    laptop = app.test_client()
    AuthActions(laptop).login()
    response = client.post("/settings/sessions/end-all")
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
    for browser in (client, laptop, _replay(app, **cookies)):
        assert not _is_signed_in(browser)
    assert "You are signed out on every device." in client.get("/login").get_data(as_text=True)


def test_the_remember_cookie_is_secure_and_http_only_over_https(client: FlaskClient, auth: AuthActions) -> None:
    auth.register()
    auth.logout()
    response = client.post(
        "/login", base_url="https://localhost", data={"email": "ana@example.com", "password": PASSWORD, "remember": "y"}
    )
    cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("remember_token="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_https_answers_carry_hsts_and_http_ones_do_not(client: FlaskClient) -> None:
    assert (
        client.get("/login", base_url="https://localhost").headers["Strict-Transport-Security"].startswith("max-age=")
    )
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_disabling_the_account_ends_its_sessions(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    auth.register(email="admin@example.com", name="Admin")
    ben = app.test_client()
    cookies = _signed_in_with_remember(ben, AuthActions(ben))
    with app.app_context():
        from webapp.auth.service import find_by_email

        ben_id = find_by_email("ana@example.com").id
    assert client.post(f"/admin/users/{ben_id}/disable").status_code == 303
    assert not _is_signed_in(ben)
    assert not _is_signed_in(_replay(app, session=cookies["session"]))
    assert not _is_signed_in(_replay(app, remember_token=cookies["remember_token"]))


def test_signed_in_devices_are_listed_and_one_can_be_signed_out(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.register()
    phone = app.test_client()
    AuthActions(phone).login()
    phone.get("/", headers={"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1"})
    page = client.get("/settings").get_data(as_text=True)
    assert page.count('class="badge badge-accent">This device') == 1
    ids = re.findall(r'action="/settings/sessions/([^/]+)/end"', page)
    assert len(ids) == 1
    assert client.post(f"/settings/sessions/{ids[0]}/end").status_code == 303
    assert not _is_signed_in(phone) and _is_signed_in(client)
    assert client.post(f"/settings/sessions/{ids[0]}/end").status_code == 404


def test_an_idle_session_ends_and_a_remembered_one_lasts(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    from datetime import timedelta

    import sqlalchemy as sa

    from webapp.extensions import db
    from webapp.models import LoginSession, utcnow

    cookies = _signed_in_with_remember(client, auth)
    forgetful = app.test_client()
    AuthActions(forgetful).login()
    with app.app_context():
        db.session.execute(sa.update(LoginSession).values(last_seen_at=utcnow() - timedelta(hours=13)))
        db.session.commit()
    assert not _is_signed_in(forgetful)
    assert _is_signed_in(_replay(app, remember_token=cookies["remember_token"]))
    with app.app_context():
        db.session.execute(sa.update(LoginSession).values(created_at=utcnow() - timedelta(days=31)))
        db.session.commit()
    assert not _is_signed_in(_replay(app, remember_token=cookies["remember_token"]))
