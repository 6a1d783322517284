"""Accounts and the page layout, as a user meets them in the browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import PHONE, Account, LiveServer, register

NAV_LINKS = ("Home", "Projects", "Chats", "Assistant", "Tasks", "Settings")


def log_in(page: Page, email: str, password: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_register_log_out_and_log_in_again(page: Page, account: Account) -> None:
    register(page, account)
    expect(page.get_by_role("heading", name=f"Welcome, {account.name}")).to_be_visible()
    sidebar = page.locator("#sidebar")
    for label in NAV_LINKS:
        expect(sidebar.get_by_role("link", name=label, exact=True)).to_be_visible()
    expect(sidebar.get_by_role("link", name="Home", exact=True)).to_have_attribute("aria-current", "page")
    expect(sidebar).to_contain_text(account.name)

    sidebar.get_by_role("button", name="Log out").click()
    expect(page).to_have_url("/login")
    expect(page.get_by_text("You are logged out.")).to_be_visible()
    page.goto("/tasks")
    expect(page.get_by_role("heading", name="Log in to BA Assistant")).to_be_visible()

    page.goto("/login")
    log_in(page, account.email, "not the password")
    error = page.get_by_role("alert").filter(has_text="Wrong email or password.")
    expect(error).to_have_count(1)
    expect(page.locator(".field-errors")).to_have_count(0)
    expect(page.get_by_label("Email")).to_have_value(account.email)

    log_in(page, "nobody@example.com", "not the password")
    expect(error).to_have_count(1)

    log_in(page, account.email, account.password)
    expect(page).to_have_url("/")
    expect(page.get_by_role("heading", name=f"Welcome, {account.name}")).to_be_visible()


@pytest.mark.parametrize("viewport", [PHONE], indirect=True, ids=["phone"])
def test_phone_sidebar_is_a_drawer_and_the_theme_setting_applies(page: Page, account: Account) -> None:
    register(page, account)
    sidebar = page.locator("#sidebar")
    menu = page.get_by_role("button", name="Open menu")
    expect(menu).to_be_visible()
    expect(sidebar).not_to_be_in_viewport()

    menu.click()
    expect(sidebar).to_be_in_viewport()
    page.keyboard.press("Escape")
    expect(sidebar).not_to_be_in_viewport()

    menu.click()
    expect(sidebar).to_be_in_viewport()
    # The backdrop covers the page beside the drawer; a tap there closes it.
    page.locator(".sidebar-backdrop").click(position={"x": 370, "y": 420})
    expect(sidebar).not_to_be_in_viewport()

    menu.click()
    sidebar.get_by_role("link", name="Settings", exact=True).click()
    expect(page.get_by_role("heading", name="Settings", exact=True)).to_be_visible()
    expect(sidebar).not_to_be_in_viewport()
    html = page.locator("html")
    expect(html).to_have_attribute("data-theme", "system")

    page.get_by_label("Theme").select_option(label="Dark")
    page.get_by_role("button", name="Save settings").click()
    expect(html).to_have_attribute("data-theme", "dark")
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    page.reload()
    expect(html).to_have_attribute("data-theme", "dark")
    expect(page.get_by_label("Theme")).to_have_value("dark")


def test_a_new_account_takes_the_browsers_time_zone(
    browser: Browser, live_server: LiveServer, account: Account
) -> None:
    context = browser.new_context(base_url=live_server.url, timezone_id="America/Sao_Paulo")
    try:
        page = context.new_page()
        with page.expect_response(lambda response: response.url.endswith("/settings/timezone")) as sent:
            register(page, account)
        assert sent.value.status == 204
        page.goto("/settings")
        expect(page.get_by_label("Time zone")).to_have_value("America/Sao_Paulo")
    finally:
        context.close()
