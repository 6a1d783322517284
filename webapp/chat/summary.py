"""A running summary of the turns that no longer fit the model's window."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from ..edges import clean_text
from ..extensions import db
from ..llm.base import Message as Turn
from ..llm.base import Provider, ProviderError, TextDelta, Usage
from ..models import Message, Thread
from . import usage

log = logging.getLogger(__name__)

SUMMARY_PROMPT = (
    "You keep the memory of a long business-analysis conversation. Merge the earlier summary (if any) "
    "and the new turns into one concise summary in Markdown bullet points: decisions, requirements, "
    "facts from documents (with their sources), open questions, artifacts saved and tasks created. "
    "Never drop a decision or a requirement. Answer with the summary only."
)


def transcript(messages: Iterable[Message], limit: int = 4000) -> str:
    """Plain text of messages, for the summariser."""
    lines = []
    for message in messages:
        lines.append(f"{message.role.upper()}: {message.content.strip()[:limit]}")
        lines.extend(f"[tool {c['name']}: {str(c.get('result', ''))[:500]}]" for c in message.tool_calls or [])
    return "\n\n".join(lines)


def extractive_summary(previous: str | None, messages: Iterable[Message], limit: int = 240) -> str:
    """A summary made without a model: the start of each turn."""
    lines = [previous.strip()] if previous else []
    lines += [f"- {m.role}: {' '.join(m.content.split())[:limit]}" for m in messages if m.content.strip()]
    return "\n".join(lines)


def _summarise_with_model(
    thread: Thread, previous: str | None, new: Sequence[Message], provider: Provider, model: str, max_tokens: int
) -> str:
    earlier = f"Earlier summary:\n{previous}\n\n" if previous else ""
    prompt = f"{earlier}New turns:\n{transcript(new)}"
    parts, used = [], Usage(0, 0)
    for event in provider.stream(
        system=SUMMARY_PROMPT, history=[Turn("user", prompt)], tools=[], model=model, max_tokens=max_tokens
    ):
        if isinstance(event, TextDelta):
            parts.append(event.text)
        elif isinstance(event, Usage):
            used = event
    usage.record(thread, None, provider.name, model, "summary", used.input_tokens, used.output_tokens)
    return clean_text("".join(parts)).strip()


def ensure_summary(
    thread: Thread, dropped: Sequence[Message], provider: Provider, model: str, *, max_tokens: int
) -> str:
    """Return a summary covering every dropped message, extending the stored one if needed.

    `dropped` is the start of one branch of the thread. The stored summary goes on with it only
    if it was made on the same branch (the message it runs through is among `dropped`); one made
    on another version of the conversation is made again, so no other version leaks in.
    """
    through = thread.history_summary_through
    covered = next((i for i, m in enumerate(dropped) if m.created_at == through), None)
    previous = thread.history_summary if covered is not None else None
    new = list(dropped[covered + 1 :]) if covered is not None else list(dropped)
    if not new and previous:
        return previous
    summary = ""
    if provider.name != "offline":
        try:
            summary = _summarise_with_model(thread, previous, new, provider, model, max_tokens)
        except ProviderError as error:
            log.info("summary not generated", extra={"thread_id": thread.id, "kind": error.kind})
    thread.history_summary = summary or extractive_summary(previous, new)
    thread.history_summary_through = dropped[-1].created_at
    db.session.commit()
    return thread.history_summary
