"""Choosing a model: the Model field suggests each provider's listed models and takes any other name."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .conftest import Account, LiveServer, seed_chat


def suggestions(page: Page, list_id: str) -> list[str]:
    return page.locator(f"#{list_id} option").evaluate_all("options => options.map(o => o.value)")


def test_the_model_field_follows_the_chosen_provider(
    signed_in: Page, account: Account, live_server: LiveServer
) -> None:
    page = signed_in
    page.goto("/chats/new")
    provider = page.get_by_label("Provider", exact=True)
    model = page.get_by_label("Model", exact=True)
    # This server's default provider is the offline one.
    expect(provider).to_have_value("offline")
    expect(page.locator("#new-chat-models option")).to_have_count(1)
    assert suggestions(page, "new-chat-models") == ["offline"]
    expect(model).to_have_attribute("list", "new-chat-models")
    provider.select_option("anthropic")
    expect(page.locator("#new-chat-models option")).to_have_count(3)
    assert suggestions(page, "new-chat-models") == ["claude-sonnet-5-5", "fake-model-large", "fake-model-small"]

    model.fill("claude-team-fine-tune")
    page.get_by_label("Mode", exact=True).select_option("meeting")
    page.get_by_role("button", name="Start chat").click()
    expect(page.get_by_role("heading", name="Untitled chat")).to_be_visible()
    expect(page.locator(".provider-indicator")).to_contain_text("Anthropic · claude-team-fine-tune")

    # The chat's details offer the same list, and a listed model is one pick away.
    thread_id = seed_chat(live_server, account)
    page.goto(f"/threads/{thread_id}")
    expect(page.locator("#thread-model-options option")).to_have_count(3)
    page.locator("#thread-model").fill("fake-model-small")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Chat settings saved.")).to_be_visible()
    expect(page.locator(".provider-indicator")).to_contain_text("Anthropic · fake-model-small")
