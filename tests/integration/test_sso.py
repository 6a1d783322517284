"""Single sign-on through the real OpenID Connect flow (Authlib) against loopback providers."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from webapp.extensions import db
from webapp.models import Identity, SecurityEvent, User

from ..conftest import PASSWORD, AuthActions, make_app
from ..fakes.oidc import FakeOidcProvider, Person


@pytest.fixture(scope="module")
def google() -> Iterator[FakeOidcProvider]:
    with FakeOidcProvider(style="google", client_id="google-client") as fake:
        yield fake


@pytest.fixture(scope="module")
def microsoft() -> Iterator[FakeOidcProvider]:
    with FakeOidcProvider(style="microsoft", tenant="common", client_id="microsoft-client") as fake:
        yield fake


@pytest.fixture(scope="module")
def keycloak() -> Iterator[FakeOidcProvider]:
    with FakeOidcProvider(style="generic", client_id="keycloak-client") as fake:
        yield fake


def sso_settings(google: FakeOidcProvider, microsoft: FakeOidcProvider, keycloak: FakeOidcProvider) -> dict[str, Any]:
    return {
        "GOOGLE_CLIENT_ID": google.client_id,
        "GOOGLE_CLIENT_SECRET": google.client_secret,
        "GOOGLE_ISSUER": google.issuer,
        "MICROSOFT_CLIENT_ID": microsoft.client_id,
        "MICROSOFT_CLIENT_SECRET": microsoft.client_secret,
        "MICROSOFT_AUTHORITY": microsoft.issuer,
        "MICROSOFT_TENANT": microsoft.tenant,
        "OIDC_ISSUER": keycloak.issuer,
        "OIDC_CLIENT_ID": keycloak.client_id,
        "OIDC_CLIENT_SECRET": keycloak.client_secret,
        "OIDC_NAME": "Keycloak",
    }


@pytest.fixture(autouse=True)
def _fresh_providers(google: FakeOidcProvider, microsoft: FakeOidcProvider, keycloak: FakeOidcProvider) -> None:
    for fake in (google, microsoft, keycloak):
        fake.reset()


@pytest.fixture
def app_config(google: FakeOidcProvider, microsoft: FakeOidcProvider, keycloak: FakeOidcProvider) -> dict[str, Any]:
    return sso_settings(google, microsoft, keycloak)


def leave_for_provider(start: TestResponse) -> str:
    """Follow the app's redirect to the provider, which signs in at once: the callback path to open."""
    assert start.status_code == 302, start.get_data(as_text=True)
    answer = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["Location"])
    return f"{back.path}?{back.query}"


def sign_in_with(client: FlaskClient, provider: str, *, next_url: str | None = None) -> TestResponse:
    query = f"?{urlencode({'next': next_url})}" if next_url else ""
    return client.get(leave_for_provider(client.get(f"/login/sso/{provider}{query}")))


def shown_after(client: FlaskClient, response: TestResponse) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)
    return client.get(response.headers["Location"]).get_data(as_text=True)


def _users(app: Flask) -> dict[str, bool]:
    with app.app_context():
        return dict(db.session.execute(sa.select(User.email, User.is_admin)).all())


def _events(app: Flask, event: str) -> list[SecurityEvent]:
    with app.app_context():
        return list(db.session.scalars(sa.select(SecurityEvent).where(SecurityEvent.event == event)))


class TestSignIn:
    def test_the_log_in_page_offers_each_configured_provider(self, client: FlaskClient) -> None:
        page = client.get("/login").get_data(as_text=True)
        for label in ("Google", "Microsoft", "Keycloak"):
            assert f"Sign in with {label}" in page
        assert 'name="password"' in page

    def test_providers_show_only_when_configured(self, database_url: str, google: FakeOidcProvider) -> None:
        app = make_app(
            database_url,
            GOOGLE_CLIENT_ID=google.client_id,
            GOOGLE_CLIENT_SECRET=google.client_secret,
            GOOGLE_ISSUER=google.issuer,
        )
        page = app.test_client().get("/login").get_data(as_text=True)
        assert "Sign in with Google" in page and "Microsoft" not in page and "Keycloak" not in page
        assert app.test_client().get("/login/sso/microsoft").status_code == 404
        with app.app_context():
            db.engine.dispose()

    def test_a_first_sign_in_creates_the_account(
        self, app: Flask, client: FlaskClient, google: FakeOidcProvider
    ) -> None:
        google.person = Person(sub="g-100", email="Ana@Example.com", name="Ana Lima")
        response = sign_in_with(client, "google", next_url="/tasks")
        assert response.status_code == 303 and response.headers["Location"] == "/tasks"
        assert "Welcome, Ana Lima" in client.get("/").get_data(as_text=True)
        assert _users(app) == {"ana@example.com": True}
        with app.app_context():
            identity = db.session.scalar(sa.select(Identity))
            assert (identity.provider, identity.subject) == ("google", "g-100")
        assert [e.detail for e in _events(app, "login.succeeded")] == ["Google"]
        assert _events(app, "account.created")[0].detail == "through Google"

    def test_the_flow_uses_pkce_state_and_nonce(self, client: FlaskClient, google: FakeOidcProvider) -> None:
        sign_in_with(client, "google")
        authorize = google.authorize_requests[0]
        assert authorize["code_challenge_method"] == "S256" and len(authorize["code_challenge"]) == 43
        assert authorize["response_type"] == "code" and set(authorize["scope"].split()) == {
            "openid",
            "email",
            "profile",
        }
        assert len(authorize["state"]) >= 20 and len(authorize["nonce"]) >= 20
        assert authorize["redirect_uri"] == "http://localhost/login/sso/google/callback"
        assert len(google.token_requests[0]["code_verifier"]) >= 43

    def test_a_verified_email_signs_in_to_the_existing_account(
        self, app: Flask, client: FlaskClient, auth: AuthActions, keycloak: FakeOidcProvider
    ) -> None:
        auth.register()
        auth.logout()
        keycloak.person = Person(sub="kc-1", email="ana@example.com")
        assert sign_in_with(client, "oidc").headers["Location"] == "/"
        assert "Welcome, Ana" in client.get("/").get_data(as_text=True)
        assert list(_users(app)) == ["ana@example.com"]
        # The next time the subject alone is enough, whatever the email says.
        auth.logout()
        keycloak.person = Person(sub="kc-1", email="ana.lima@elsewhere.example", email_verified=False)
        assert sign_in_with(client, "oidc").headers["Location"] == "/"

    def test_microsoft_common_checks_the_issuer_against_the_tokens_tenant(
        self, app: Flask, client: FlaskClient, microsoft: FakeOidcProvider
    ) -> None:
        microsoft.person = Person(
            sub="ms-1",
            email="ana@contoso.example",
            tid="aaaaaaaa-0000-4000-8000-000000000001",
            extra={"xms_edov": True},
        )
        assert sign_in_with(client, "microsoft").headers["Location"] == "/"
        assert list(_users(app)) == ["ana@contoso.example"]
        AuthActions(client).logout()
        # Signed by Microsoft's key, but naming a tenant other than its own `tid`.
        microsoft.id_token_claims = {"iss": f"{microsoft.url}/bbbbbbbb-0000-4000-8000-000000000002/v2.0"}
        page = shown_after(client, sign_in_with(client, "microsoft"))
        assert "Microsoft&#39;s answer could not be verified" in page

    def test_microsoft_without_a_verified_email_claim_cannot_create_an_account(
        self, app: Flask, client: FlaskClient, microsoft: FakeOidcProvider
    ) -> None:
        microsoft.person = Person(sub="ms-2", email="ben@contoso.example")
        page = shown_after(client, sign_in_with(client, "microsoft"))
        assert "has no verified email address" in page and _users(app) == {}

    def test_a_configured_microsoft_tenant(self, database_url: str) -> None:
        tenant = "cccccccc-0000-4000-8000-000000000003"
        with FakeOidcProvider(style="microsoft", tenant=tenant) as fake:
            fake.person = Person(sub="ms-3", email="cy@contoso.example", tid=tenant, extra={"xms_edov": True})
            app = make_app(
                database_url,
                MICROSOFT_CLIENT_ID=fake.client_id,
                MICROSOFT_CLIENT_SECRET=fake.client_secret,
                MICROSOFT_AUTHORITY=fake.issuer,
                MICROSOFT_TENANT=tenant,
            )
            client = app.test_client()
            assert sign_in_with(client, "microsoft").headers["Location"] == "/"
            assert list(_users(app)) == ["cy@contoso.example"]
            with app.app_context():
                db.session.execute(sa.delete(User))
                db.session.commit()
                db.engine.dispose()

    def test_a_disabled_account_cannot_sign_in(self, app: Flask, client: FlaskClient, google: FakeOidcProvider) -> None:
        sign_in_with(client, "google")
        AuthActions(client).logout()
        with app.app_context():
            db.session.execute(sa.update(User).values(disabled_at=sa.func.now()))
            db.session.commit()
        assert "This account is disabled" in shown_after(client, sign_in_with(client, "google"))


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tamper_state(client: FlaskClient, callback: str) -> TestResponse:
    path, _, query = callback.partition("?")
    params = {k: v[0] for k, v in parse_qs(query).items()}
    params["state"] = params["state"][::-1]
    return client.get(f"{path}?{urlencode(params)}")


def _replay(client: FlaskClient, callback: str) -> TestResponse:
    client.get(callback)
    AuthActions(client).logout()
    return client.get(callback)


PROVIDERS = {"google": "Google", "microsoft": "Microsoft", "oidc": "Keycloak"}


class TestRefusals:
    """Each bad case, with each style of provider: a clear message on the log-in page, no account made
    or changed, a log entry."""

    @pytest.fixture(params=list(PROVIDERS))
    def provider(
        self,
        request: pytest.FixtureRequest,
        google: FakeOidcProvider,
        microsoft: FakeOidcProvider,
        keycloak: FakeOidcProvider,
    ) -> tuple[str, FakeOidcProvider]:
        fake = {"google": google, "microsoft": microsoft, "oidc": keycloak}[request.param]
        # Microsoft says an email is verified with the optional claim xms_edov.
        fake.person = Person(extra={"xms_edov": True} if request.param == "microsoft" else {})
        return request.param, fake

    @pytest.mark.parametrize(
        ("setup", "message", "reason"),
        [
            ({"id_token_claims": {"nonce": "not-the-nonce"}}, "{label}&#39;s answer could not be verified", "'nonce'"),
            (
                {"id_token_claims": {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}},
                "{label}&#39;s answer could not be verified",
                "ExpiredTokenError",
            ),
            ({"foreign_key": True}, "{label}&#39;s answer could not be verified", "BadSignatureError"),
            ({"id_token_claims": {"aud": "someone-else"}}, "{label}&#39;s answer could not be verified", "'aud'"),
            (
                {"id_token_claims": {"iss": "https://evil.example"}},
                "{label}&#39;s answer could not be verified",
                "'iss'",
            ),
            ({"person": Person(email_verified=False)}, "has no verified email address", "email not verified"),
            ({"deny": True}, "Signing in with {label} was cancelled.", "consent cancelled"),
            ({"token_error": 500}, "{label} could not be reached", "500 Server Error"),
        ],
        ids=[
            "wrong-nonce",
            "expired",
            "wrongly-signed",
            "wrong-audience",
            "wrong-issuer",
            "unverified-email",
            "cancelled",
            "token-endpoint-down",
        ],
    )
    def test_a_bad_answer_is_refused(
        self,
        app: Flask,
        client: FlaskClient,
        provider: tuple[str, FakeOidcProvider],
        setup: dict[str, Any],
        message: str,
        reason: str,
    ) -> None:
        name, fake = provider
        for attribute, value in setup.items():
            setattr(fake, attribute, value)
        response = sign_in_with(client, name)
        assert response.headers["Location"].startswith("/login")
        assert message.format(label=PROVIDERS[name]) in shown_after(client, response)
        assert _users(app) == {}
        [entry] = _events(app, "sso.failed")
        assert reason in entry.detail and entry.ip == "127.0.0.1"

    @pytest.mark.parametrize("attack", [_tamper_state, _replay], ids=["tampered-state", "replayed-state"])
    def test_a_state_that_does_not_match_is_refused(
        self, app: Flask, client: FlaskClient, provider: tuple[str, FakeOidcProvider], attack: Any
    ) -> None:
        name, _ = provider
        callback = leave_for_provider(client.get(f"/login/sso/{name}"))
        response = attack(client, callback)
        assert "does not match one started in this browser" in shown_after(client, response)
        assert "Welcome" not in client.get("/", follow_redirects=True).get_data(as_text=True)
        assert _events(app, "sso.failed")[-1].detail.endswith(
            ("state does not match", "no sign-in started in this browser")
        )

    def test_a_callback_from_another_browser_is_refused(self, app: Flask, client: FlaskClient) -> None:
        callback = leave_for_provider(client.get("/login/sso/google"))
        stranger = app.test_client()
        assert "does not match" in shown_after(stranger, stranger.get(callback))
        assert _users(app) == {}

    def test_an_unreachable_provider(self, database_url: str) -> None:
        app = make_app(
            database_url,
            GOOGLE_CLIENT_ID="x",
            GOOGLE_CLIENT_SECRET="y",
            GOOGLE_ISSUER=f"http://127.0.0.1:{_closed_port()}",
        )
        client = app.test_client()
        response = client.get("/login/sso/google")
        assert "Google could not be reached. Try again in a moment." in shown_after(client, response)
        assert _events(app, "sso.failed")[0].detail.startswith("Google: provider unreachable")
        with app.app_context():
            db.session.execute(sa.delete(SecurityEvent))
            db.session.commit()
            db.engine.dispose()


class TestRules:
    @pytest.fixture
    def app_config(
        self, google: FakeOidcProvider, microsoft: FakeOidcProvider, keycloak: FakeOidcProvider
    ) -> dict[str, Any]:
        return {
            **sso_settings(google, microsoft, keycloak),
            "ALLOWED_EMAIL_DOMAINS": ("example.com",),
            "ALLOW_REGISTRATION": False,
        }

    def test_a_domain_outside_the_allowed_ones_is_refused(
        self, app: Flask, client: FlaskClient, google: FakeOidcProvider
    ) -> None:
        google.person = Person(email="eve@elsewhere.example")
        page = shown_after(client, sign_in_with(client, "google"))
        assert "Sign-in here is for addresses at example.com" in page and _users(app) == {}
        assert "domain not allowed" in _events(app, "sso.failed")[0].detail

    def test_closed_registration_lets_in_only_existing_accounts(
        self, app: Flask, client: FlaskClient, google: FakeOidcProvider
    ) -> None:
        page = shown_after(client, sign_in_with(client, "google"))
        assert "No account here uses ana@example.com. Ask your administrator for an invitation." in page
        assert _users(app) == {}
        app.test_cli_runner().invoke(
            args=["users", "create", "--email", "ana@example.com", "--name", "Ana", "--password", PASSWORD]
        )
        assert sign_in_with(client, "google").headers["Location"] == "/"


class TestLinks:
    def test_link_sign_in_with_it_and_unlink(
        self, app: Flask, client: FlaskClient, auth: AuthActions, google: FakeOidcProvider
    ) -> None:
        auth.register()
        google.person = Person(sub="g-7", email="ana.lima@gmail.example")
        callback = leave_for_provider(client.post("/settings/sign-in/google/link"))
        page = shown_after(client, client.get(callback))
        assert "Google account linked" in page and "ana.lima@gmail.example" in page and "Unlink Google" in page
        auth.logout()
        assert sign_in_with(client, "google").headers["Location"] == "/"
        assert "Welcome, Ana" in client.get("/").get_data(as_text=True)
        with app.app_context():
            identity_id = db.session.scalar(sa.select(Identity.id))
        page = shown_after(client, client.post(f"/settings/sign-in/{identity_id}/unlink"))
        assert "Google account unlinked." in page and "Link Google" in page
        assert [e.event for e in _events(app, "sso.linked") + _events(app, "sso.unlinked")] == [
            "sso.linked",
            "sso.unlinked",
        ]

    def test_the_last_way_in_cannot_be_unlinked(self, app: Flask, client: FlaskClient) -> None:
        sign_in_with(client, "google")
        with app.app_context():
            identity_id = db.session.scalar(sa.select(Identity.id))
        page = shown_after(client, client.post(f"/settings/sign-in/{identity_id}/unlink"))
        assert "This is your only way to sign in." in page
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Identity)) == 1

    def test_an_account_linked_to_someone_else_is_refused(
        self, app: Flask, client: FlaskClient, google: FakeOidcProvider
    ) -> None:
        google.person = Person(sub="g-shared", email="ben@example.com")
        sign_in_with(app.test_client(), "google")
        AuthActions(client).register()
        page = shown_after(client, client.get(leave_for_provider(client.post("/settings/sign-in/google/link"))))
        assert "already linked to another user" in page
        with app.app_context():
            owners = db.session.scalars(sa.select(User.email).join(Identity, Identity.user_id == User.id)).all()
        assert owners == ["ben@example.com"]

    def test_another_users_identity_is_not_found(self, app: Flask, client: FlaskClient) -> None:
        sign_in_with(app.test_client(), "google")
        AuthActions(client).register(email="cy@example.com")
        with app.app_context():
            identity_id = db.session.scalar(sa.select(Identity.id))
        assert client.post(f"/settings/sign-in/{identity_id}/unlink").status_code == 404


class TestSingleSignOnOnly:
    @pytest.fixture
    def app_config(
        self, google: FakeOidcProvider, microsoft: FakeOidcProvider, keycloak: FakeOidcProvider
    ) -> dict[str, Any]:
        return {**sso_settings(google, microsoft, keycloak), "LOCAL_LOGIN": False}

    def test_only_single_sign_on_is_offered(self, app: Flask, client: FlaskClient) -> None:
        page = client.get("/login").get_data(as_text=True)
        assert "Sign in with Google" in page and 'name="password"' not in page and "Create an account" not in page
        assert client.post("/login", data={"email": "a@example.com", "password": PASSWORD}).status_code == 404
        assert client.get("/register").status_code == 403
        sign_in_with(client, "google")
        settings = client.get("/settings").get_data(as_text=True)
        assert "Change password" not in settings and "Set password" not in settings


def test_someone_signed_in_is_not_sent_to_the_provider(
    client: FlaskClient, auth: AuthActions, google: FakeOidcProvider
) -> None:
    auth.register()
    response = client.get("/login/sso/google?next=/tasks")
    assert response.status_code == 303 and response.headers["Location"] == "/tasks"
    assert google.authorize_requests == []
