"""Accounts for a team in the browser: single sign-on, linking, and the admin console."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from ..fakes.oidc import FakeOidcProvider, Person
from .conftest import Account, LiveServer, new_account, register

_subjects = itertools.count(1)


@pytest.fixture
def google(live_server: LiveServer) -> Iterator[FakeOidcProvider]:
    fake = live_server.google
    assert fake is not None
    fake.reset()
    yield fake
    fake.reset()


def _person(name: str) -> Person:
    number = next(_subjects)
    return Person(
        sub=f"e2e-{os.getpid()}-{number}",
        email=f"{name.lower()}.sso{number}-{os.getpid()}@example.com",
        name=f"{name} Example",
    )


@pytest.fixture
def admin_page(page: Page, live_server: LiveServer) -> Page:
    """A page signed in as a new account that `flask users promote` made an admin."""
    account = new_account("Ada")
    register(page, account)
    result = live_server.app.test_cli_runner().invoke(args=["users", "promote", account.email])
    assert result.exit_code == 0, result.output
    page.reload()
    return page


def test_sign_in_with_the_provider(page: Page, google: FakeOidcProvider) -> None:
    google.person = _person("Sam")
    page.goto("/tasks")
    page.get_by_role("link", name="Sign in with Google").click()
    expect(page).to_have_url("/tasks")
    page.locator("#sidebar").get_by_role("link", name="Home", exact=True).click()
    expect(page.get_by_role("heading", name="Welcome, Sam Example")).to_be_visible()


def test_link_and_unlink_a_provider(signed_in: Page, google: FakeOidcProvider) -> None:
    page = signed_in
    google.person = _person("Ana")
    page.goto("/settings")
    methods = page.locator("#sign-in-methods")
    methods.get_by_role("button", name="Link Google").click()
    expect(page.get_by_text("Google account linked: you can sign in with it now.")).to_be_visible()
    expect(methods).to_contain_text(google.person.email or "")

    methods.get_by_role("button", name="Unlink Google").click()
    expect(page.get_by_text("Google account unlinked.")).to_be_visible()
    expect(methods.get_by_role("button", name="Link Google")).to_be_visible()


def test_invite_set_a_budget_and_disable(admin_page: Page, browser: Browser, live_server: LiveServer) -> None:
    page = admin_page
    invitee = Account(email=f"ivy{next(_subjects)}-{os.getpid()}@example.com", name="Ivy")
    page.locator("#sidebar").get_by_role("link", name="Admin", exact=True).click()
    page.get_by_role("link", name="Invite someone").click()
    page.get_by_label("Email").fill(invitee.email)
    page.get_by_label("Name").fill(invitee.name)
    page.get_by_role("button", name="Invite").click()
    expect(page.get_by_role("heading", name="Ivy is invited")).to_be_visible()
    link = page.get_by_label("One-time link").input_value()

    context = browser.new_context(base_url=live_server.url)
    try:
        ivy = context.new_page()
        ivy.goto(link)
        ivy.get_by_label("Choose a password").fill(invitee.password)
        ivy.get_by_label("Repeat password").fill(invitee.password)
        ivy.get_by_role("button", name="Join").click()
        expect(ivy.get_by_role("heading", name="Welcome, Ivy")).to_be_visible()

        page.get_by_role("link", name=f"Back to {invitee.name}").click()
        page.get_by_label("Monthly budget (USD)").fill("7.50")
        page.get_by_role("button", name="Save budget").click()
        expect(page.get_by_text("Ivy's monthly budget is $7.50.")).to_be_visible()
        ivy.goto("/settings")
        expect(ivy.get_by_text("of your $7.50 monthly budget")).to_be_visible()

        ivy.locator("#sidebar").get_by_role("link", name="Tasks", exact=True).click()
        expect(ivy.get_by_label("New task")).to_be_visible()
        page.get_by_role("link", name="Disable…").click()
        page.get_by_role("button", name="Disable account").click()
        expect(page.get_by_text("Ivy is disabled and signed out everywhere.")).to_be_visible()

        # Ivy's open tab: its next request (an htmx one) lands on the log-in page.
        ivy.get_by_label("New task").fill("Write the brief")
        ivy.get_by_label("New task").press("Enter")
        expect(ivy.get_by_role("heading", name="Log in to BA Assistant")).to_be_visible()
        expect(ivy).to_have_url("/login?next=/tasks")
    finally:
        context.close()
