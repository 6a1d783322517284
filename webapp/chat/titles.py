"""Short thread titles, made from the conversation until the user names the thread."""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable

import sqlalchemy as sa

from ..database import commit_without_expiring
from ..edges import clean_text
from ..extensions import db
from ..llm.base import Message as Turn
from ..llm.base import Provider, ProviderError, TextDelta, Usage
from ..models import Message, Thread
from . import usage
from .branches import load, selected_branch

log = logging.getLogger(__name__)

TITLE_MAX = 60
# A title is made after the first exchange and refreshed every few exchanges after that.
REFRESH_EVERY = 4
TITLE_PROMPT = (
    "Write a title of at most six words for this conversation. "
    "Answer with the title only: no quotes, no trailing punctuation."
)


def derive_title(text: str) -> str:
    """A title taken from the user's own words (no model needed): its first sentence if that fits."""
    words = " ".join(re.sub(r"[#*_`>\[\]]", " ", text).split())
    if len(words) <= TITLE_MAX:
        return words or "New chat"
    sentence = re.match(r"(.{12,}?[.?!])(?:\s|$)", words[: TITLE_MAX + 1])
    if sentence:
        return sentence[1].rstrip(".")
    return words[:TITLE_MAX].rsplit(" ", 1)[0].rstrip(" .,;:!?-–—") + "…"


def _clean(title: str) -> str:
    title = " ".join(clean_text(title).strip().strip("\"'").split())
    return title.rstrip(".")[:TITLE_MAX] or "New chat"


def _first_messages(thread: Thread) -> list[Message]:
    """The start of the conversation the thread shows."""
    return load(selected_branch(thread).ids[:12])


def _ask_model(thread: Thread, provider: Provider, model: str, messages: list[Message]) -> str:
    transcript = "\n\n".join(f"{m.role}: {m.content[:1500]}" for m in messages if m.content)
    text, used = [], Usage(0, 0)
    for event in provider.stream(
        system=TITLE_PROMPT, history=[Turn("user", transcript)], tools=[], model=model, max_tokens=30
    ):
        if isinstance(event, TextDelta):
            text.append(event.text)
        elif isinstance(event, Usage):
            used = event
    usage.record(thread, None, provider.name, model, "title", used.input_tokens, used.output_tokens)
    return _clean("".join(text))


def _due(thread: Thread, messages: Callable[[], list[Message]]) -> bool:
    # The thread's own row answers most asks (a locked title, or none yet): the messages are
    # read only to count the exchanges of a titled thread.
    if thread.title_locked:
        return False
    if not thread.title:
        return True
    user_turns = sum(1 for m in messages() if m.role == "user")
    return (user_turns - 1) % REFRESH_EVERY == 0


def title_due(thread: Thread) -> bool:
    """Whether the reply that has just ended makes (or refreshes) the thread's title."""
    return _due(thread, lambda: _first_messages(thread))


def refresh_title(thread: Thread, provider: Provider, model: str | None, *, delay: float = 0.0) -> None:
    """Give the thread a title after its first exchange, and refresh it now and then.

    `delay`: seconds to wait before asking the model (CHAT_TITLE_DELAY), out of other work's way.
    """
    messages = functools.cache(lambda: _first_messages(thread))
    if not _due(thread, messages):
        return
    first_user = next((m.content for m in messages() if m.role == "user"), "")
    # The model takes a while: its wait must not hold a database connection (a hundred replies
    # ending together would hold a hundred).
    commit_without_expiring()
    time.sleep(delay)
    if provider.name == "offline":
        title = thread.title or derive_title(first_user)
    else:
        try:
            title = _ask_model(thread, provider, model or provider.default_model, messages())
        except ProviderError as error:
            log.info("title not generated", extra={"thread_id": thread.id, "kind": error.kind})
            title = thread.title or derive_title(first_user)
    # One statement: the user may have named the thread while the model was asked.
    db.session.execute(
        sa.update(Thread).where(Thread.id == thread.id, sa.not_(Thread.title_locked)).values(title=title),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
