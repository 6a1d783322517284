"""Security headers on every kind of response, and pages that need no inline code to work."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from webapp.extensions import db
from webapp.models import Message, User, utcnow

from ..chat_helpers import make_reply, make_thread

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
REQUIRED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_secured(response) -> None:
    for name, value in REQUIRED.items():
        assert response.headers.get(name) == value, name
    policy = csp_directives(response.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    for directive in ("script-src", "style-src"):
        assert policy[directive] == ["'self'"], f"{directive} must allow our own files and nothing inline"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "microphone=()" in response.headers["Permissions-Policy"]


def test_public_pages_static_files_and_errors_carry_the_headers(client: FlaskClient) -> None:
    for url, status in (
        ("/login", 200),
        ("/register", 200),
        ("/static/app.css", 200),
        ("/no-such-page", 404),
        ("/healthz", 200),
    ):
        response = client.get(url)
        assert response.status_code == status, url
        assert_secured(response)
        response.close()
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_signed_in_pages_forms_and_streams_carry_the_headers(app: Flask, client: FlaskClient, user: User) -> None:
    thread_id = make_thread(app, user.id)
    reply_id = make_reply(app, user.id, status="complete", content="Done.")
    for response in (
        client.get("/"),
        client.get(f"/threads/{thread_id}"),
        client.get("/tasks"),
        client.post("/projects", data={"name": "Acme"}),
    ):
        assert response.status_code in (200, 303)
        assert_secured(response)
    stream = client.get(f"/messages/{reply_id}/stream")
    assert "event: done" in stream.get_data(as_text=True)
    assert_secured(stream)
    assert stream.headers["X-Accel-Buffering"] == "no", "a proxy must pass the stream through unbuffered"


def test_https_requests_are_told_to_stay_on_https(client: FlaskClient) -> None:
    response = client.get("/login", base_url="https://ba.example.com")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


# Anything the policy would block in a browser: inline scripts, style blocks and attributes,
# inline event handlers, javascript: URLs.
INLINE_CODE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=|javascript:|\shx-on[:-]", re.IGNORECASE
)


def test_templates_have_no_inline_scripts_or_styles() -> None:
    offenders = {
        path.relative_to(TEMPLATES).as_posix(): found
        for path in sorted(TEMPLATES.rglob("*.html"))
        if (found := INLINE_CODE.findall(path.read_text()))
    }
    assert not offenders, f"inline code that the Content-Security-Policy blocks: {offenders}"


def test_table_alignment_in_replies_needs_no_style_attribute(app: Flask, client: FlaskClient, user: User) -> None:
    thread_id = make_thread(app, user.id)
    with app.app_context():
        db.session.add(
            Message(
                thread_id=thread_id,
                role="assistant",
                status="complete",
                created_at=utcnow(),
                content="| Story | Points |\n|:--|--:|\n| Approve | 3 |\n",
            )
        )
        db.session.commit()
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert '<td class="align-right">3</td>' in page
    assert "text-align" not in page


def test_forms_post_only_here_or_on_to_a_configured_sign_in_provider(database_url: str) -> None:
    from ..conftest import make_app

    plain = make_app(database_url).test_client().get("/login")
    assert csp_directives(plain.headers["Content-Security-Policy"])["form-action"] == ["'self'"]
    app = make_app(
        database_url,
        GOOGLE_CLIENT_ID="id",
        GOOGLE_CLIENT_SECRET="secret",
        OIDC_ISSUER="https://sso.example.com/realms/acme",
        OIDC_CLIENT_ID="ba",
    )
    policy = csp_directives(app.test_client().get("/login").headers["Content-Security-Policy"])
    assert policy["form-action"] == ["'self'", "https://accounts.google.com", "https://sso.example.com"]
