"""Copy as the user means it: a message copies as its Markdown, a code block as its code."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from ..fakes.anthropic import FakeAnthropic
from ..fakes.script import text_reply
from .conftest import Account, LiveServer, seed_chat

CODE = 'def total(rows):\n    return sum(row["amount"] for row in rows)\n'
REPLY = f"""Here is the **check**:

```python
{CODE}```

| Team | Sign-off |
| --- | --- |
| Finance | Friday |

```
plain steps
```"""


def clipboard(page: Page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


def test_copy_gives_markdown_and_each_code_block_its_code(
    signed_in: Page, account: Account, live_server: LiveServer, anthropic: FakeAnthropic
) -> None:
    page = signed_in
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    thread_id = seed_chat(live_server, account)
    anthropic.script(text_reply(REPLY, chunks=6))
    page.goto(f"/threads/{thread_id}")
    page.get_by_label("Message", exact=True).fill("How do we check the totals?")
    page.get_by_label("Message", exact=True).press("Enter")
    reply = page.locator(".message-assistant").last
    expect(reply.locator(".prose table")).to_be_visible()

    blocks = reply.locator(".code-block")
    expect(blocks.locator(".code-lang")).to_have_text(["python", "text"])
    blocks.first.get_by_role("button", name="Copy python code").click()
    expect(blocks.first.get_by_role("button", name="Copy python code")).to_have_text("Copied")
    assert clipboard(page) == CODE
    blocks.last.get_by_role("button", name="Copy the code").click()
    assert clipboard(page) == "plain steps\n"

    reply.locator(".message-meta").get_by_role("button", name="Copy", exact=True).click()
    expect(reply.locator(".message-meta").get_by_role("button", name="Copied", exact=True)).to_be_visible()
    # The Markdown source: emphasis, the fence with its language, and the table's pipes.
    assert clipboard(page) == REPLY

    user = page.locator(".message-user").last
    user.get_by_role("button", name="Copy", exact=True).click()
    expect(user.get_by_role("button", name="Copied", exact=True)).to_be_visible()
    assert clipboard(page) == "How do we check the totals?"
