"""Accounts through HTTP: register, log in and out, settings, and the guards around them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from webapp.extensions import db
from webapp.models import User

from ..conftest import PASSWORD, AuthActions, csrf_token_from, make_app


def _user_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(User))


def test_register_then_log_in_shows_the_layout(client: FlaskClient, auth: AuthActions) -> None:
    response = auth.register()
    assert response.status_code == 303 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Welcome, Ana" in page
    for label in ("Home", "Settings"):
        assert f'<span class="nav-label">{label}</span>' in page
    assert 'aria-label="Breadcrumb"' in page
    assert "vendor/htmx-2.0.11.min.js" in page and "vendor/htmx-ext-sse-2.2.4.js" in page


def test_first_user_is_admin_and_the_second_is_not(app: Flask, auth: AuthActions) -> None:
    auth.register()
    auth.logout()
    auth.register(email="ben@example.com", name="Ben")
    with app.app_context():
        admins = dict(db.session.execute(sa.select(User.email, User.is_admin)).all())
    assert admins == {"ana@example.com": True, "ben@example.com": False}


def test_password_is_hashed_with_scrypt(app: Flask, auth: AuthActions) -> None:
    auth.register()
    with app.app_context():
        stored = db.session.scalar(sa.select(User.password_hash))
    assert stored.startswith("scrypt:") and PASSWORD not in stored


def test_registration_does_not_say_whether_an_email_exists(app: Flask, client: FlaskClient) -> None:
    def register(email: str, password: str):
        return app.test_client().post(
            "/register", data={"email": email, "display_name": "Someone", "password": password, "confirm": password}
        )

    first = register("ana@example.com", PASSWORD)
    taken = register("ANA@Example.com", "another long password")
    fresh = register("ben@example.com", "another long password")
    assert first.status_code == taken.status_code == fresh.status_code == 303
    assert taken.headers["Location"] == "/login?email=ana@example.com"
    assert fresh.headers["Location"] == "/login?email=ben@example.com"
    assert _user_count(app) == 2
    # The owner's password is unchanged; the new account works.
    assert AuthActions(client).login(email="ana@example.com").status_code == 303
    assert (
        AuthActions(app.test_client()).login(email="ben@example.com", password="another long password").status_code
        == 303
    )


def test_registration_leads_to_the_log_in_page_with_the_email_filled_in(client: FlaskClient) -> None:
    response = client.post(
        "/register", data={"email": "ana@example.com", "display_name": "Ana", "password": PASSWORD, "confirm": PASSWORD}
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Log in to BA Assistant" in page and 'value="ana@example.com"' in page
    assert "Your account is ready" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("password", "short", "Field must be between 10 and 256 characters long."),
        ("email", "not-an-email", "Invalid email address."),
        ("display_name", "x" * 81, "Field cannot be longer than 80 characters."),
        ("email", "a" * 250 + "@example.com", "Field cannot be longer than 254 characters."),
    ],
)
def test_registration_form_errors(app: Flask, client: FlaskClient, field: str, value: str, message: str) -> None:
    data = {"email": "ana@example.com", "display_name": "Ana", "password": PASSWORD, "confirm": PASSWORD}
    data[field] = value
    if field == "password":
        data["confirm"] = value
    response = client.post("/register", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _user_count(app) == 0


def test_wrong_password_and_unknown_email_get_the_same_answer(client: FlaskClient, auth: AuthActions) -> None:
    auth.register()
    auth.logout()
    wrong_password = auth.login(password="wrong password!!")
    unknown_email = auth.login(email="nobody@example.com")
    assert wrong_password.status_code == unknown_email.status_code == 422
    for response in (wrong_password, unknown_email):
        assert "Wrong email or password." in response.get_data(as_text=True)


def test_login_logout_round_trip(client: FlaskClient, auth: AuthActions) -> None:
    auth.register()
    auth.logout()
    assert client.get("/").status_code == 303
    response = auth.login(email="ANA@example.com")
    assert response.status_code == 303
    assert "Welcome, Ana" in client.get("/").get_data(as_text=True)


def test_login_redirects_only_to_local_paths(client: FlaskClient, auth: AuthActions) -> None:
    auth.register()
    auth.logout()
    evil = client.post("/login?next=https://evil.example/", data={"email": "ana@example.com", "password": PASSWORD})
    assert evil.headers["Location"] == "/"
    auth.logout()
    local = client.post("/login?next=/settings", data={"email": "ana@example.com", "password": PASSWORD})
    assert local.headers["Location"] == "/settings"


def test_logged_out_page_request_redirects_to_login(client: FlaskClient) -> None:
    response = client.get("/settings")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=/settings")


def test_logged_out_htmx_request_gets_hx_redirect(client: FlaskClient) -> None:
    response = client.get("/settings", headers={"HX-Request": "true", "HX-Target": "main"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=")
    assert response.get_data(as_text=True) == ""


def test_next_survives_an_htmx_request_after_the_session_ended(client: FlaskClient, auth: AuthActions) -> None:
    auth.register()
    auth.logout()
    response = client.get(
        "/tasks",
        headers={
            "HX-Request": "true",
            "HX-Target": "task-list",
            "HX-Current-URL": "http://localhost/projects?sort=name",
        },
    )
    login_url = response.headers["HX-Redirect"]
    assert login_url == "/login?next=/projects?sort%3Dname"
    answer = client.post(login_url, data={"email": "ana@example.com", "password": PASSWORD})
    assert answer.headers["Location"] == "/projects?sort=name"


def test_an_htmx_current_url_elsewhere_only_gives_its_path(client: FlaskClient, auth: AuthActions) -> None:
    auth.register()
    auth.logout()
    response = client.get(
        "/tasks",
        headers={
            "HX-Request": "true",
            "HX-Target": "task-list",
            "HX-Current-URL": "https://evil.example//evil.example/x",
        },
    )
    answer = client.post(response.headers["HX-Redirect"], data={"email": "ana@example.com", "password": PASSWORD})
    assert answer.headers["Location"] == "/"


@pytest.fixture
def closed_app_config() -> dict:
    return {"ALLOW_REGISTRATION": False}


def test_registration_can_be_closed(database_url: str) -> None:
    app = make_app(database_url, ALLOW_REGISTRATION=False)
    client = app.test_client()
    page = client.get("/register")
    assert page.status_code == 403 and "Registration is closed" in page.get_data(as_text=True)
    response = client.post(
        "/register", data={"email": "x@example.com", "display_name": "X", "password": PASSWORD, "confirm": PASSWORD}
    )
    assert response.status_code == 403
    assert _user_count(app) == 0
    assert "Create an account" not in client.get("/login").get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()


def test_unknown_url_renders_the_404_page(client: FlaskClient, auth: AuthActions) -> None:
    auth.register()
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Not found" in page and 'class="sidebar"' in page


def test_session_cookie_flags(client: FlaskClient, auth: AuthActions) -> None:
    response = auth.register()
    cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = client.post("/logout", base_url="https://localhost")
    secure_cookie = next(value for value in secure.headers.getlist("Set-Cookie") if value.startswith("session="))
    assert "Secure" in secure_cookie


class TestSettings:
    def test_change_display_name_and_theme(self, client: FlaskClient, user: User) -> None:
        response = client.post(
            "/settings/profile", data={"display_name": "Ana Lima", "theme": "dark", "default_provider": ""}
        )
        assert response.status_code == 303
        page = client.get("/settings").get_data(as_text=True)
        assert 'data-theme="dark"' in page and "Ana Lima" in page and "Settings saved." in page

    def test_settings_lists_providers_without_keys(self, client: FlaskClient, user: User) -> None:
        page = client.get("/settings").get_data(as_text=True)
        assert "Offline" in page and "Configured" in page and "ANTHROPIC_API_KEY" in page

    def test_settings_show_this_months_usage_against_the_budget(
        self, app: Flask, client: FlaskClient, user: User
    ) -> None:
        from decimal import Decimal

        from webapp.models import Thread, TokenUsage

        with app.app_context():
            thread = Thread(user_id=user.id, model_provider="anthropic", title="Budget review")
            db.session.add(thread)
            db.session.flush()
            db.session.add_all(
                [
                    TokenUsage(
                        user_id=user.id,
                        thread_id=thread.id,
                        provider="anthropic",
                        model="m",
                        purpose="chat",
                        input_tokens=1000,
                        output_tokens=200,
                        cost=Decimal("41.50"),
                    ),
                    TokenUsage(
                        user_id=user.id,
                        thread_id=thread.id,
                        provider="anthropic",
                        model="m",
                        purpose="title",
                        input_tokens=10,
                        output_tokens=2,
                        cost=Decimal("0.50"),
                    ),
                ]
            )
            db.session.commit()
        page = client.get("/settings").get_data(as_text=True)
        assert "$42.00 of your $50.00 monthly budget (84.0%)" in page
        assert "Budget review" in page and "1010" in page and "budget-warn" in page

    def test_the_browser_time_zone_is_taken_once(self, app: Flask, client: FlaskClient, user: User) -> None:
        page = client.get("/settings").get_data(as_text=True)
        assert 'data-timezone-unknown data-timezone-url="/settings/timezone"' in page
        assert client.post("/settings/timezone", data={"timezone": "Mars/Olympus_Mons"}).status_code == 409
        assert client.post("/settings/timezone", data={"timezone": "America/Sao_Paulo"}).status_code == 204
        # Once known (from the browser or the settings page), a browser elsewhere does not change it.
        assert client.post("/settings/timezone", data={"timezone": "Asia/Tokyo"}).status_code == 409
        with app.app_context():
            assert db.session.get(User, user.id).timezone == "America/Sao_Paulo"
        assert "data-timezone-unknown" not in client.get("/settings").get_data(as_text=True)

    def test_the_time_zone_is_set_and_checked_on_the_settings_page(
        self, app: Flask, client: FlaskClient, user: User
    ) -> None:
        form = {"display_name": "Ana", "theme": "system", "default_provider": ""}
        wrong = client.post("/settings/profile", data={**form, "timezone": "Europe/Atlantis"})
        assert wrong.status_code == 422 and "Pick a time zone from the list" in wrong.get_data(as_text=True)
        assert client.post("/settings/profile", data={**form, "timezone": " Europe/Berlin "}).status_code == 303
        page = client.get("/settings").get_data(as_text=True)
        assert 'value="Europe/Berlin"' in page and '<option value="Pacific/Kiritimati">' in page
        # Emptied, it is the browser's again: the next page asks the browser for it.
        assert client.post("/settings/profile", data={**form, "timezone": ""}).status_code == 303
        with app.app_context():
            assert db.session.get(User, user.id).timezone is None
        assert "data-timezone-unknown" in client.get("/settings").get_data(as_text=True)

    def test_unknown_theme_is_a_form_error(self, client: FlaskClient, user: User) -> None:
        response = client.post(
            "/settings/profile", data={"display_name": "Ana", "theme": "neon", "default_provider": ""}
        )
        assert response.status_code == 422
        assert "Not a valid choice" in response.get_data(as_text=True)

    def test_htmx_form_error_returns_only_the_fragment(self, client: FlaskClient, user: User) -> None:
        response = client.post(
            "/settings/profile",
            data={"display_name": "", "theme": "dark", "default_provider": ""},
            headers={"HX-Request": "true", "HX-Target": "settings-forms"},
        )
        page = response.get_data(as_text=True)
        assert response.status_code == 422 and page.startswith('<div id="settings-forms"')
        assert "This field is required." in page and "<html" not in page
        assert response.headers["Vary"] == "HX-Target" or "HX-Target" in response.headers["Vary"]

    def test_htmx_save_reloads_the_whole_page(self, client: FlaskClient, user: User) -> None:
        response = client.post(
            "/settings/profile",
            data={"display_name": "Ana", "theme": "dark", "default_provider": ""},
            headers={"HX-Request": "true", "HX-Target": "settings-forms"},
        )
        assert response.status_code == 204 and response.headers["HX-Redirect"] == "/settings"
        page = client.get("/settings").get_data(as_text=True)
        assert 'data-theme="dark"' in page and "Settings saved." in page

    def test_change_password(self, client: FlaskClient, auth: AuthActions, user: User) -> None:
        new = "a much longer secret"
        wrong = client.post(
            "/settings/password", data={"current_password": "nope nope nope", "new_password": new, "confirm": new}
        )
        assert wrong.status_code == 422 and "That is not your current password." in wrong.get_data(as_text=True)
        ok = client.post("/settings/password", data={"current_password": PASSWORD, "new_password": new, "confirm": new})
        assert ok.status_code == 303
        auth.logout()
        assert auth.login().status_code == 422
        assert auth.login(password=new).status_code == 303


class TestCsrf:
    @pytest.fixture
    def app_config(self) -> dict:
        return {"WTF_CSRF_ENABLED": True}

    def test_form_without_token_gets_the_400_page(self, client: FlaskClient) -> None:
        response = client.post("/register", data={"email": "a@example.com"})
        assert response.status_code == 400
        assert "security token is missing or invalid" in response.get_data(as_text=True)

    def test_htmx_header_token_is_accepted(self, app: Flask, client: FlaskClient) -> None:
        token = csrf_token_from(client.get("/register").get_data(as_text=True))
        data = {"email": "ana@example.com", "display_name": "Ana", "password": PASSWORD, "confirm": PASSWORD}
        response = client.post("/register", data=data, headers={"X-CSRFToken": token})
        assert response.status_code == 303
        login = {"email": "ana@example.com", "password": PASSWORD}
        assert client.post("/login", data=login, headers={"X-CSRFToken": token}).status_code == 303
        page = client.get("/").get_data(as_text=True)
        assert '"X-CSRFToken": "' in page
        assert client.post("/logout", headers={"X-CSRFToken": csrf_token_from(page)}).status_code == 303

    def test_token_does_not_expire(self, app: Flask) -> None:
        assert app.config["WTF_CSRF_TIME_LIMIT"] is None


class TestLoginRateLimit:
    @pytest.fixture
    def app_config(self) -> dict:
        return {"RATELIMIT_LOGIN": "3 per minute"}

    def test_failed_logins_are_limited(self, client: FlaskClient, auth: AuthActions) -> None:
        statuses = [auth.login(password="wrong password!").status_code for _ in range(4)]
        assert statuses == [422, 422, 422, 429]
        assert "Too many failed log-in attempts from your address" in auth.login().get_data(as_text=True)
