"""The provider a fresh install talks to: no network, no model, no pretending.

It can still do one useful thing, which is to search the user's documents and
quote what matches, and it says plainly how to connect a real model.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Sequence
from typing import Any

from webapp.llm.base import Event, Finished, Message, TextDelta, ToolCall, ToolResult, ToolSpec, Usage
from webapp.llm.specs import SPECS

SEARCH_TOOL = "search_documents"
_WORDS_PER_DELTA = 4
_MAX_PASSAGES = 3
_MAX_QUOTE_CHARS = 600
_MAX_ECHO_CHARS = 200

_SETUP_HELP = (
    "To get real answers, connect a language model: set one of these environment variables "
    "and restart BA Assistant.\n\n"
    + "\n".join(
        f"- `{spec.enabling_setting}` for {spec.setup_hint}" for spec in SPECS.values() if spec.enabling_setting
    )
)


class OfflineProvider:
    name = "offline"
    display_name = "Offline"
    default_model = SPECS["offline"].default_model

    def context_window(self, model: str | None) -> int:
        return SPECS[self.name].context_window(model or self.default_model)

    def list_models(self, *, timeout: float) -> list[str]:
        return [self.default_model]

    def stream(
        self,
        *,
        system: str,
        history: Sequence[Message],
        tools: Sequence[ToolSpec],
        model: str | None,
        max_tokens: int,
    ) -> Iterator[Event]:
        last = history[-1] if history else Message(role="user")
        search = _search_result(last)
        if search is not None:
            yield from _answer(_search_answer(search), system, history)
        elif last.text.strip() and any(t.name == SEARCH_TOOL for t in tools):
            yield ToolCall("offline-1", SEARCH_TOOL, {"query": last.text.strip()})
            yield Finished("tool_use")
        else:
            yield from _answer(_no_model_answer(last.text), system, history)


def _search_result(message: Message) -> ToolResult | None:
    return next((r for r in message.tool_results if r.name == SEARCH_TOOL), None)


def _answer(text: str, system: str, history: Sequence[Message]) -> Iterator[Event]:
    for words in _word_groups(text):
        yield TextDelta(words)
    prompt_chars = len(system) + sum(len(m.text) for m in history)
    yield Usage(_estimate_tokens(prompt_chars), _estimate_tokens(len(text)))
    yield Finished("end_turn")


def _word_groups(text: str) -> Iterator[str]:
    words = re.findall(r"\s*\S+\s*", text)
    for start in range(0, len(words), _WORDS_PER_DELTA):
        yield "".join(words[start : start + _WORDS_PER_DELTA])


def _estimate_tokens(chars: int) -> int:
    return math.ceil(chars / 4)


def _search_answer(result: ToolResult) -> str:
    if result.is_error:
        return f"The document search failed: {result.content}\n\n{_SETUP_HELP}\n"
    query, hits = _parse_search(result.content)
    if not hits:
        return (
            f"I searched your documents for “{query}” and nothing matched.\n\n"
            "No language model is configured, so I can only find and quote passages, "
            f"not answer from general knowledge.\n\n{_SETUP_HELP}\n"
        )
    passages = "\n\n".join(_passage(n, hit) for n, hit in enumerate(hits[:_MAX_PASSAGES], start=1))
    return (
        f"Here are the passages from your documents that best match “{query}”:\n\n{passages}\n\n"
        "No language model is configured, so these are quotes, not an answer: "
        f"read them to find what you need.\n\n{_SETUP_HELP}\n"
    )


def _parse_search(content: str) -> tuple[str, list[dict[str, Any]]]:
    try:
        payload = json.loads(content)
    except ValueError:
        return "", []
    if not isinstance(payload, dict):
        return "", []
    hits = [h for h in payload.get("results") or [] if isinstance(h, dict)]
    return str(payload.get("query") or ""), hits


def _passage(number: int, hit: dict[str, Any]) -> str:
    quote = _shorten(str(hit.get("text") or hit.get("snippet") or ""), _MAX_QUOTE_CHARS)
    quoted = "\n".join(f"> {line}" if line else ">" for line in quote.splitlines())
    return f"**[{number}] {_citation(hit)}**\n\n{quoted}"


def _citation(hit: dict[str, Any]) -> str:
    name = str(hit.get("document") or "Untitled document")
    page = hit.get("page")
    where = f"{name}, page {page}" if page else name
    url = hit.get("url")
    return f"[{where}]({url})" if url else where


def _no_model_answer(question: str) -> str:
    echo = _shorten(" ".join(question.split()), _MAX_ECHO_CHARS)
    asked = f"You asked: “{echo}”\n\n" if echo else ""
    return (
        f"{asked}No language model is configured yet, so I can't answer that. "
        "Upload documents to a project or thread and I will quote the passages that match your "
        f"questions.\n\n{_SETUP_HELP}\n"
    )


def _shorten(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return f"{cut}…"
