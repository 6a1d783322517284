"""The admin console through HTTP: people, invitations, budgets, sessions, usage and the security log."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from webapp.extensions import db
from webapp.models import AccountLink, SecurityEvent, TokenUsage, User, utcnow

from ..chat_helpers import make_thread
from ..conftest import PASSWORD, AuthActions, other_client

HX = {"HX-Request": "true", "HX-Target": "composer"}


def _user_id(app: Flask, email: str) -> str:
    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.email == email))


def _events(app: Flask) -> list[tuple[str, str, str]]:
    """(event, account email, actor email), oldest first."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(SecurityEvent.event, SecurityEvent.email, SecurityEvent.actor_email).order_by(
                SecurityEvent.created_at
            )
        )
        return [tuple(row) for row in rows]


def _shown(client: FlaskClient, response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)
    return client.get(response.headers["Location"]).get_data(as_text=True)


def _main(page: str) -> str:
    """The page without its sidebar (which names whoever is signed in)."""
    return page.split('id="main"', 1)[1]


def _link_in(page: str) -> str:
    match = re.search(r'id="one-time-link"[^>]*value="http://localhost(/[^"]+)"', page)
    assert match, "no one-time link on the page"
    return match[1]


@pytest.fixture
def admin(client: FlaskClient, auth: AuthActions) -> FlaskClient:
    """The first account (an admin), signed in on `client`."""
    auth.register()
    return client


@pytest.fixture
def ben(app: Flask, admin: FlaskClient) -> FlaskClient:
    return other_client(app)


ADMIN_URLS = [
    "/admin/",
    "/admin/users",
    "/admin/invite",
    "/admin/usage",
    "/admin/security-log",
    "/admin/users/{id}",
    "/admin/users/{id}/confirm/disable",
]
ADMIN_ACTIONS = ["disable", "enable", "promote", "demote", "sign-out", "reset-link", "budget"]


class TestAccess:
    def test_a_non_admin_gets_404_on_every_admin_url(self, app: Flask, admin: FlaskClient, ben: FlaskClient) -> None:
        admin_id = _user_id(app, "ana@example.com")
        for url in ADMIN_URLS:
            assert ben.get(url.format(id=admin_id)).status_code == 404, url
        for action in ADMIN_ACTIONS:
            assert ben.post(f"/admin/users/{admin_id}/{action}", data={"budget": "1"}).status_code == 404, action
        assert ben.post("/admin/invite", data={"email": "x@example.com", "display_name": "X"}).status_code == 404
        assert "Admin</span>" not in ben.get("/").get_data(as_text=True)
        with app.app_context():
            assert db.session.get(User, admin_id).is_admin

    def test_someone_signed_out_is_sent_to_log_in(self, app: Flask) -> None:
        response = app.test_client().get("/admin/users")
        assert response.status_code == 303 and response.headers["Location"].startswith("/login?next=/admin/users")

    def test_an_admin_sees_the_console_in_the_sidebar(self, admin: FlaskClient) -> None:
        page = admin.get("/").get_data(as_text=True)
        assert '<span class="nav-label">Admin</span>' in page
        assert admin.get("/admin/").headers["Location"] == "/admin/users"


class TestUsers:
    def test_list_with_search_last_sign_in_and_spend(self, app: Flask, admin: FlaskClient, ben: FlaskClient) -> None:
        ben_id = _user_id(app, "ben@example.com")
        with app.app_context():
            db.session.add(
                TokenUsage(
                    user_id=ben_id,
                    provider="anthropic",
                    model="m",
                    purpose="chat",
                    input_tokens=10,
                    output_tokens=5,
                    cost=Decimal("12.50"),
                )
            )
            db.session.commit()
        page = admin.get("/admin/users").get_data(as_text=True)
        assert "2 accounts · 1 admin" in page and "ben@example.com" in page and "just now" in page
        assert "$12.50 of $50.00" in page
        found = _main(admin.get("/admin/users?q=BEN").get_data(as_text=True))
        assert "ben@example.com" in found and "ana@example.com" not in found
        assert "No user matches" in admin.get("/admin/users?q=100%25_").get_data(as_text=True)

    def test_another_users_page_and_an_unknown_one(self, app: Flask, admin: FlaskClient, ben: FlaskClient) -> None:
        page = admin.get(f"/admin/users/{_user_id(app, 'ben@example.com')}").get_data(as_text=True)
        assert "Ben" in page and "Signed-in devices" in page and "Make admin" in page
        assert admin.get("/admin/users/no-such-user").status_code == 404

    def test_disable_ends_their_sessions_at_once(self, app: Flask, admin: FlaskClient, ben: FlaskClient) -> None:
        ben_id = _user_id(app, "ben@example.com")
        ask = admin.get(f"/admin/users/{ben_id}/confirm/disable").get_data(as_text=True)
        assert "Disable Ben?" in ask and "signed out at once" in ask
        page = _shown(admin, admin.post(f"/admin/users/{ben_id}/disable"))
        assert "Ben is disabled and signed out everywhere." in page and "Disabled" in page
        # Ben's open tab: its next htmx request is sent to log in, and so is a page load.
        response = ben.get(
            "/tasks",
            headers={"HX-Request": "true", "HX-Target": "task-list", "HX-Current-URL": "http://localhost/tasks"},
        )
        assert response.status_code == 401 and response.headers["HX-Redirect"] == "/login?next=/tasks"
        login = AuthActions(app.test_client()).login(email="ben@example.com")
        assert login.status_code == 422 and "This account is disabled" in login.get_data(as_text=True)
        _shown(admin, admin.post(f"/admin/users/{ben_id}/enable"))
        assert AuthActions(app.test_client()).login(email="ben@example.com").status_code == 303
        assert [e[0] for e in _events(app) if e[0].startswith("admin.")] == ["admin.disabled", "admin.enabled"]

    def test_the_last_admin_cannot_be_demoted_or_disabled(
        self, app: Flask, admin: FlaskClient, ben: FlaskClient
    ) -> None:
        ana_id, ben_id = _user_id(app, "ana@example.com"), _user_id(app, "ben@example.com")
        page = _shown(admin, admin.post(f"/admin/users/{ana_id}/demote"))
        assert "Ana is the only admin, so they cannot be removed as admin." in page
        assert "You cannot disable your own account." in _shown(admin, admin.post(f"/admin/users/{ana_id}/disable"))
        _shown(admin, admin.post(f"/admin/users/{ben_id}/promote"))
        assert "Admin</span>" in ben.get("/").get_data(as_text=True)
        # Now Ben may demote Ana, but not then disable himself, the last admin.
        _shown(ben, ben.post(f"/admin/users/{ana_id}/demote"))
        assert admin.get("/admin/users").status_code == 404
        page = _shown(ben, ben.post(f"/admin/users/{ben_id}/demote"))
        assert "Ben is the only admin" in page

    def test_sign_a_user_out_everywhere(self, app: Flask, admin: FlaskClient, ben: FlaskClient) -> None:
        ben_id = _user_id(app, "ben@example.com")
        laptop = app.test_client()
        AuthActions(laptop).login(email="ben@example.com")
        _shown(admin, admin.post(f"/admin/users/{ben_id}/sign-out"))
        for browser in (ben, laptop):
            assert browser.get("/settings").status_code == 303
        assert AuthActions(laptop).login(email="ben@example.com").status_code == 303

    def test_a_users_own_budget_governs_their_replies(self, app: Flask, admin: FlaskClient, ben: FlaskClient) -> None:
        ben_id = _user_id(app, "ben@example.com")
        bad = admin.post(f"/admin/users/{ben_id}/budget", data={"budget": "lots"})
        assert bad.status_code == 422 and "Write the budget as an amount in dollars" in bad.get_data(as_text=True)
        assert admin.post(f"/admin/users/{ben_id}/budget", data={"budget": "-1"}).status_code == 422
        page = _shown(admin, admin.post(f"/admin/users/{ben_id}/budget", data={"budget": "$1.50"}))
        assert "Ben&#39;s monthly budget is $1.50." in page
        with app.app_context():
            db.session.add(
                TokenUsage(
                    user_id=ben_id,
                    provider="anthropic",
                    model="m",
                    purpose="chat",
                    input_tokens=1,
                    output_tokens=1,
                    cost=Decimal("2.00"),
                )
            )
            db.session.commit()
        thread_id = make_thread(app, ben_id)
        refused = ben.post(f"/threads/{thread_id}/messages", data={"content": "Hi"}, headers=HX)
        assert refused.status_code == 402 and "spent ($2.00 of $1.50)" in refused.get_data(as_text=True)
        assert "$2.00 of your $1.50 monthly budget" in ben.get("/settings").get_data(as_text=True)
        assert "$2.00 of $1.50" in admin.get("/admin/users").get_data(as_text=True)
        # Emptied, the server's default applies again.
        _shown(admin, admin.post(f"/admin/users/{ben_id}/budget", data={"budget": ""}))
        assert ben.post(f"/threads/{thread_id}/messages", data={"content": "Hi"}, headers=HX).status_code == 200


class TestLinks:
    def test_invite_and_accept(self, app: Flask, admin: FlaskClient) -> None:
        form = admin.get("/admin/invite").get_data(as_text=True)
        assert "Invite someone" in form
        page = admin.post("/admin/invite", data={"email": "Cy@Example.com", "display_name": "Cy"})
        assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
        link = _link_in(page.get_data(as_text=True))
        assert "Invited" in admin.get("/admin/users").get_data(as_text=True)
        cy = app.test_client()
        welcome = cy.get(link)
        assert "You are invited to sign in as <strong>cy@example.com</strong>" in welcome.get_data(as_text=True)
        assert welcome.headers["Referrer-Policy"] == "no-referrer"
        joined = cy.post(link, data={"display_name": "Cy Souza", "password": PASSWORD, "confirm": PASSWORD})
        assert "Welcome, Cy Souza" in _shown(cy, joined)
        again = app.test_client().get(link)
        assert again.status_code == 410 and "This invitation has already been used." in again.get_data(as_text=True)
        assert AuthActions(app.test_client()).login(email="cy@example.com").status_code == 303
        assert ("invite.accepted", "cy@example.com", "cy@example.com") in _events(app)

    def test_an_email_that_has_an_account_cannot_be_invited(self, admin: FlaskClient) -> None:
        page = admin.post("/admin/invite", data={"email": "ana@example.com", "display_name": "Ana"})
        assert page.status_code == 422 and "already exists" in page.get_data(as_text=True)

    def test_an_expired_invitation(self, app: Flask, admin: FlaskClient) -> None:
        link = _link_in(
            admin.post("/admin/invite", data={"email": "cy@example.com", "display_name": "Cy"}).get_data(as_text=True)
        )
        with app.app_context():
            db.session.execute(sa.update(AccountLink).values(expires_at=utcnow() - timedelta(minutes=1)))
            db.session.commit()
        response = app.test_client().post(link, data={"display_name": "Cy", "password": PASSWORD, "confirm": PASSWORD})
        assert response.status_code == 410 and "This invitation has expired." in response.get_data(as_text=True)
        assert AuthActions(app.test_client()).login(email="cy@example.com").status_code == 422

    def test_an_unknown_link(self, app: Flask) -> None:
        response = app.test_client().get("/invite/not-a-token")
        assert response.status_code == 404 and "This invitation is not valid" in response.get_data(as_text=True)

    def test_a_password_reset_link(self, app: Flask, admin: FlaskClient, ben: FlaskClient) -> None:
        ben_id = _user_id(app, "ben@example.com")
        link = _link_in(admin.post(f"/admin/users/{ben_id}/reset-link").get_data(as_text=True))
        stranger = app.test_client()
        short = stranger.post(link, data={"password": "short", "confirm": "short"})
        assert short.status_code == 422 and "between 10 and 256" in short.get_data(as_text=True)
        new = "a brand new secret"
        assert "Your password is changed" in _shown(
            stranger, stranger.post(link, data={"password": new, "confirm": new})
        )
        assert ben.get("/settings").status_code == 303, "Ben's old session ended"
        assert AuthActions(app.test_client()).login(email="ben@example.com").status_code == 422
        assert AuthActions(app.test_client()).login(email="ben@example.com", password=new).status_code == 303
        reused = app.test_client().post(link, data={"password": "another secret!", "confirm": "another secret!"})
        assert reused.status_code == 410 and "already been used" in reused.get_data(as_text=True)


class TestUsageAndLog:
    def test_usage_per_user_and_provider_with_a_chart(self, app: Flask, admin: FlaskClient, ben: FlaskClient) -> None:
        ana_id, ben_id = _user_id(app, "ana@example.com"), _user_id(app, "ben@example.com")
        with app.app_context():
            for user_id, provider, cost in (
                (ana_id, "anthropic", "3.00"),
                (ana_id, "openai", "1.00"),
                (ben_id, "anthropic", "8.00"),
            ):
                db.session.add(
                    TokenUsage(
                        user_id=user_id,
                        provider=provider,
                        model="m",
                        purpose="chat",
                        input_tokens=100,
                        output_tokens=20,
                        cost=Decimal(cost),
                    )
                )
            db.session.add(
                TokenUsage(
                    user_id=ben_id,
                    provider="openai",
                    model="m",
                    purpose="chat",
                    input_tokens=1,
                    output_tokens=1,
                    cost=Decimal("99"),
                    created_at=utcnow() - timedelta(days=62),
                )
            )
            db.session.commit()
        page = _main(admin.get("/admin/usage").get_data(as_text=True))
        assert "Total $12.00" in page
        assert page.index("ben@example.com") < page.index("ana@example.com"), "the costliest first"
        assert '<svg class="bar-chart"' in page
        assert len(re.findall(r'<rect [^>]*class="chart-series-', page)) == 3, "a segment per user and provider"
        assert page.count('class="chart-swatch chart-series-') == 2, "a legend entry per provider"
        assert "Ben: $8.00." in page and "style=" not in page and "<script" not in page
        earlier = admin.get("/admin/usage?month=1999-13").get_data(as_text=True)
        assert "Total $12.00" in earlier, "a month that does not exist is this month"
        assert "No usage in January 2001" in admin.get("/admin/usage?month=2001-01").get_data(as_text=True)

    def test_the_security_log_filters(self, app: Flask, admin: FlaskClient, ben: FlaskClient) -> None:
        AuthActions(app.test_client()).login(email="ben@example.com", password="not the password")
        page = admin.get("/admin/security-log?event=login.failed").get_data(as_text=True)
        assert "Failed sign-in" in page and "ben@example.com" in page and "wrong email or password" in page
        assert "Account created" not in page.split("<tbody>")[1]
        page = _main(admin.get("/admin/security-log?q=ben@").get_data(as_text=True))
        assert "ana@example.com</td>" not in page
        assert "Nothing logged matches" in admin.get("/admin/security-log?q=nobody").get_data(as_text=True)

    def test_deleting_a_project_and_a_chat_is_logged(self, app: Flask, admin: FlaskClient) -> None:
        project = admin.post("/projects", data={"name": "Acme"}).headers["Location"]
        admin.post(f"{project}/delete")
        thread_id = make_thread(app, _user_id(app, "ana@example.com"), title="Kick-off")
        admin.post(f"/threads/{thread_id}/delete")
        page = admin.get("/admin/security-log").get_data(as_text=True)
        assert "Project deleted" in page and "Acme" in page and "Chat deleted" in page and "Kick-off" in page

    def test_old_entries_go_after_security_log_days(self, app: Flask, admin: FlaskClient) -> None:
        from webapp import security_log

        with app.app_context():
            db.session.execute(sa.update(SecurityEvent).values(created_at=utcnow() - timedelta(days=400)))
            db.session.commit()
            security_log.record("logout", email="ana@example.com")
            assert security_log.purge(app.config["SECURITY_LOG_DAYS"]) > 0
            assert db.session.scalars(sa.select(SecurityEvent.event)).all() == ["logout"]


def test_flask_users_promote(app: Flask, admin: FlaskClient, ben: FlaskClient) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "promote", "BEN@example.com"])
    assert result.exit_code == 0 and "ben@example.com is now an admin." in result.output
    assert ben.get("/admin/users").status_code == 200
    missing = runner.invoke(args=["users", "promote", "nobody@example.com"])
    assert missing.exit_code == 1 and "No user has the email nobody@example.com." in missing.output
