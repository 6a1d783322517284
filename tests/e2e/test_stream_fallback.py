"""A page whose reply stream is closed by the user's newer streams still shows the whole reply."""

from __future__ import annotations

import threading
from http.client import HTTPConnection
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from ..fakes.anthropic import FakeAnthropic
from ..fakes.script import text_reply, token_reply
from .conftest import LiveServer
from .test_chat import send, start_chat

EXPECTED = "".join(f"word{i} " for i in range(80))
# Remembers, in the page, that the reply's stream told it to fall back.
RECORD_FALLBACK = """
document.addEventListener("htmx:sseBeforeMessage", function (event) {
  if (event.detail.type === "fallback") window.fellBack = true;
});
"""


class OtherTab(threading.Thread):
    """Another tab of the same user's, holding the reply's stream open until it ends."""

    def __init__(self, base_url: str, path: str, cookie: str) -> None:
        super().__init__(daemon=True)
        address = urlsplit(base_url)
        self._connection = HTTPConnection(address.hostname, address.port, timeout=30)
        self._connection.request("GET", path, headers={"Cookie": cookie, "Accept": "text/event-stream"})
        self._response = self._connection.getresponse()
        assert self._response.status == 200
        self.body = b""
        self.start()

    def run(self) -> None:
        try:
            self.body = self._response.read()
        finally:
            self._connection.close()


def test_a_reply_whose_stream_gave_way_to_newer_ones_is_followed_to_its_end(
    signed_in: Page, anthropic: FakeAnthropic, live_server: LiveServer
) -> None:
    page = signed_in
    page.add_init_script(RECORD_FALLBACK)
    anthropic.script(token_reply(80, delay=0.05), text_reply("Fallback check"))
    start_chat(page, provider="anthropic", mode="meeting")
    reply = send(page, "Count for me")
    expect(reply.locator(".stream-text")).to_contain_text("word2 ")

    # Eight more streams of the same reply, from other tabs: the page's own is the oldest.
    path = reply.get_attribute("sse-connect")
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
    tabs = [OtherTab(live_server.url, path, cookie) for _ in range(8)]

    expect(reply).not_to_have_attribute("sse-connect", path, timeout=5_000)
    assert page.evaluate("window.fellBack") is True
    expect(reply).to_have_attribute("aria-busy", "true")  # still being written, and followed
    expect(reply.locator(".prose")).to_have_text(EXPECTED.strip(), timeout=15_000)
    expect(reply).not_to_have_attribute("aria-busy", "true")
    for tab in tabs:
        tab.join(10)
        assert b"event: done" in tab.body  # the newer streams were never closed
    page.reload()
    expect(page.locator(".message-assistant .prose")).to_have_text(EXPECTED.strip())
