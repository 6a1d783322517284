"""The offline provider: searching documents, quoting them, and saying how to connect a model."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.unit.llm.conftest import SEARCH, ask
from webapp.llm.base import Finished, Message, TextDelta, ToolCall, ToolResult, Usage
from webapp.llm.offline import OfflineProvider

pytestmark = pytest.mark.timeout(5)

QUESTION = Message("user", "What are the acceptance criteria for password reset?")


def hit(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "document": f"spec-{n}.pdf",
        "document_id": f"doc-{n}",
        "chunk": n,
        "page": n + 1,
        "snippet": f"snippet {n}",
        "text": f"Passage number {n} says the reset link expires after 30 minutes.",
        "url": f"/documents/doc-{n}#chunk-{n}",
        **fields,
    }


def answer_to(results: list[dict[str, Any]], *, is_error: bool = False) -> list[Any]:
    call = ToolCall("offline-1", "search_documents", {"query": QUESTION.text})
    content = json.dumps({"query": QUESTION.text, "results": results})
    result = ToolResult("offline-1", "search_documents", content, is_error=is_error)
    return ask(
        OfflineProvider(),
        QUESTION,
        Message("assistant", tool_calls=(call,)),
        Message("user", tool_results=(result,)),
        tools=(SEARCH,),
    )


def text_of(events: list[Any]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def test_asks_to_search_documents_first() -> None:
    events = ask(OfflineProvider(), QUESTION, tools=(SEARCH,))

    assert events == [
        ToolCall("offline-1", "search_documents", {"query": QUESTION.text}),
        Finished("tool_use"),
    ]


def test_quotes_the_best_three_passages_with_citations() -> None:
    text = text_of(answer_to([hit(1), hit(2), hit(3), hit(4)]))

    assert "> Passage number 1 says the reset link expires after 30 minutes." in text
    assert "[spec-1.pdf, page 2](/documents/doc-1#chunk-1)" in text
    assert "[spec-3.pdf, page 4](/documents/doc-3#chunk-3)" in text
    assert "spec-4.pdf" not in text


def test_says_plainly_that_no_model_is_configured() -> None:
    text = text_of(answer_to([hit(1)]))

    assert "No language model is configured" in text
    for setting in (
        "ANTHROPIC_API_KEY",
        "OPENAI_API_KEY",
        "GEMINI_API_KEY",
        "DEEPSEEK_API_KEY",
        "OPENAI_COMPATIBLE_BASE_URL",
    ):
        assert setting in text
    assert "restart" in text


def test_a_passage_without_a_page_cites_the_document() -> None:
    text = text_of(answer_to([hit(1, page=None)]))

    assert "[spec-1.pdf](/documents/doc-1#chunk-1)" in text


def test_says_when_nothing_matched() -> None:
    text = text_of(answer_to([]))

    assert f"I searched your documents for “{QUESTION.text}” and nothing matched." in text


def test_reports_a_failed_search() -> None:
    events = answer_to([], is_error=True)

    assert text_of(events).startswith("The document search failed")
    assert events[-1] == Finished("end_turn")


def test_without_tools_explains_how_to_connect_a_model() -> None:
    events = ask(OfflineProvider(), QUESTION)
    text = text_of(events)

    assert text.startswith(f"You asked: “{QUESTION.text}”")
    assert "No language model is configured yet" in text
    assert "OPENAI_COMPATIBLE_BASE_URL" in text


def test_long_questions_are_echoed_briefly() -> None:
    text = text_of(ask(OfflineProvider(), Message("user", "word " * 200)))

    echo = text.split("”")[0]
    assert len(echo) < 220
    assert echo.endswith("…")


def test_streams_word_groups_then_usage_then_finished() -> None:
    events = answer_to([hit(1)])

    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert len(deltas) > 10
    assert all(len(d.text.split()) <= 4 for d in deltas)
    assert isinstance(events[-2], Usage)
    assert events[-1] == Finished("end_turn")
    assert events[-2].output_tokens == -(-len(text_of(events)) // 4)


def test_is_deterministic() -> None:
    assert answer_to([hit(1), hit(2)]) == answer_to([hit(1), hit(2)])
    assert ask(OfflineProvider(), QUESTION) == ask(OfflineProvider(), QUESTION)


def test_unreadable_search_results_count_as_no_results() -> None:
    result = ToolResult("offline-1", "search_documents", "not json")
    events = ask(OfflineProvider(), QUESTION, Message("user", tool_results=(result,)), tools=(SEARCH,))

    assert "nothing matched" in text_of(events)


def test_has_a_context_window() -> None:
    assert OfflineProvider().context_window(None) > 0
