"""History within a token budget: newest turns whole, tool rounds rebuilt in order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from webapp.chat.context import assistant_turns, message_tokens, plan_context, to_turns
from webapp.models import Message

START = datetime(2026, 1, 1, tzinfo=UTC)


def _message(index: int, role: str, content: str, **fields: object) -> Message:
    return Message(id=f"m{index}", role=role, content=content, created_at=START + timedelta(seconds=index), **fields)


def _conversation(exchanges: int, size: int = 400) -> list[Message]:
    messages = []
    for i in range(exchanges):
        messages.append(_message(2 * i, "user", f"question {i} " + "q" * size))
        messages.append(_message(2 * i + 1, "assistant", f"answer {i} " + "a" * size))
    return messages


def test_everything_is_kept_when_it_fits() -> None:
    messages = _conversation(3)
    plan = plan_context(messages, budget_tokens=10_000)
    assert plan.kept == messages and plan.dropped == []


def test_oldest_exchanges_are_dropped_whole_when_over_budget() -> None:
    messages = _conversation(10)
    per_exchange = message_tokens(messages[0]) + message_tokens(messages[1])
    plan = plan_context(messages, budget_tokens=per_exchange * 3 + 1)
    assert [m.id for m in plan.kept] == [m.id for m in messages[-6:]]
    assert [m.id for m in plan.dropped] == [m.id for m in messages[:-6]]
    assert plan.kept[0].role == "user"


def test_the_newest_exchange_is_kept_even_when_alone_it_is_too_big() -> None:
    messages = _conversation(2, size=40_000)
    plan = plan_context(messages, budget_tokens=100)
    assert [m.id for m in plan.kept] == ["m2", "m3"]


def test_tool_rounds_are_rebuilt_in_order() -> None:
    reply = _message(
        1,
        "assistant",
        "Let me look. Found it: the budget is 2M.",
        tool_calls=[
            {
                "id": "t1",
                "name": "search_documents",
                "arguments": {"query": "budget"},
                "offset": 13,
                "result": '{"results": []}',
                "is_error": False,
            },
        ],
    )
    turns = assistant_turns(reply)
    assert [(t.role, t.text) for t in turns] == [
        ("assistant", "Let me look. "),
        ("user", ""),
        ("assistant", "Found it: the budget is 2M."),
    ]
    assert turns[0].tool_calls[0].arguments == {"query": "budget"}
    assert turns[1].tool_results[0].tool_call_id == "t1"


def test_long_tool_results_are_trimmed() -> None:
    reply = _message(
        1,
        "assistant",
        "",
        tool_calls=[{"id": "t1", "name": "search_documents", "arguments": {}, "offset": 0, "result": "x" * 50_000}],
    )
    result = assistant_turns(reply)[1].tool_results[0].content
    assert len(result) < 5_000 and result.endswith("[trimmed]")


def test_neighbouring_user_messages_are_merged() -> None:
    messages = [
        _message(0, "user", "first"),
        _message(1, "assistant", "", status="error"),
        _message(2, "user", "second"),
    ]
    assert [(t.role, t.text) for t in to_turns(messages)] == [("user", "first\n\nsecond")]
