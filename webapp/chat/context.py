"""The history a model sees: the newest turns whole, older turns summarised, within its budget."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..assistant.prompts import build_system_prompt
from ..assistant.skills import get_skill
from ..llm.base import Message as Turn
from ..llm.base import Provider, ToolCall, ToolResult
from ..models import Message, Thread
from .branches import selected_path
from .summary import ensure_summary
from .usage import estimate_tokens

PER_MESSAGE_TOKENS = 8
TOOL_RESULT_CHARS = 4000


def _tool_rounds(calls: Sequence[dict[str, Any]]) -> list[tuple[int, list[dict[str, Any]]]]:
    """Group recorded tool calls by the text offset at which their round happened."""
    rounds: list[tuple[int, list[dict[str, Any]]]] = []
    for call in calls:
        offset = int(call.get("offset", 0))
        if rounds and rounds[-1][0] == offset:
            rounds[-1][1].append(call)
        else:
            rounds.append((offset, [call]))
    return rounds


def _trim(text: str, limit: int = TOOL_RESULT_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + " …[trimmed]"


def assistant_turns(message: Message) -> list[Turn]:
    """An assistant message as the model saw it: text, tool calls and their results, in order."""
    turns: list[Turn] = []
    start = 0
    for offset, calls in _tool_rounds(message.tool_calls or []):
        turns.append(
            Turn(
                "assistant",
                message.content[start:offset],
                tool_calls=tuple(ToolCall(c["id"], c["name"], c.get("arguments") or {}) for c in calls),
            )
        )
        turns.append(
            Turn(
                "user",
                tool_results=tuple(
                    ToolResult(c["id"], c["name"], _trim(c.get("result", "")), bool(c.get("is_error"))) for c in calls
                ),
            )
        )
        start = offset
    rest = message.content[start:]
    if rest.strip():
        turns.append(Turn("assistant", rest))
    return turns


def to_turns(messages: Iterable[Message]) -> list[Turn]:
    """Stored messages as neutral turns, merging neighbours of the same role where allowed."""
    turns: list[Turn] = []
    for message in messages:
        new = [Turn("user", message.content)] if message.role == "user" else assistant_turns(message)
        for turn in new:
            if turns and _mergeable(turns[-1], turn):
                turns[-1] = Turn(turn.role, f"{turns[-1].text}\n\n{turn.text}".strip())
            else:
                turns.append(turn)
    return turns


def _mergeable(previous: Turn, turn: Turn) -> bool:
    plain = not (previous.tool_calls or previous.tool_results or turn.tool_calls or turn.tool_results)
    return plain and previous.role == turn.role


def message_tokens(message: Message) -> int:
    tool_text = sum(
        len(str(c.get("arguments", ""))) + min(len(c.get("result", "")), TOOL_RESULT_CHARS)
        for c in message.tool_calls or []
    )
    return estimate_tokens(len(message.content) + tool_text) + PER_MESSAGE_TOKENS


@dataclass(frozen=True, slots=True)
class ContextPlan:
    kept: list[Message]  # sent whole, oldest first
    dropped: list[Message]  # older messages that must be covered by the summary


def _exchanges(messages: Sequence[Message]) -> list[list[Message]]:
    """Split into exchanges that start at a user message, so a cut never separates a reply from its question."""
    groups: list[list[Message]] = []
    for message in messages:
        if message.role == "user" or not groups:
            groups.append([message])
        else:
            groups[-1].append(message)
    return groups


def plan_context(messages: Sequence[Message], budget_tokens: int) -> ContextPlan:
    """Keep the newest exchanges that fit `budget_tokens`; the newest one is always kept."""
    groups = _exchanges(messages)
    kept: list[list[Message]] = []
    used = 0
    for group in reversed(groups):
        cost = sum(message_tokens(m) for m in group)
        if kept and used + cost > budget_tokens:
            break
        kept.append(group)
        used += cost
    kept_messages = [m for group in reversed(kept) for m in group]
    dropped = [m for group in groups[: len(groups) - len(kept)] for m in group]
    return ContextPlan(kept_messages, dropped)


# The part of the model's window kept for the summary of older turns.
SUMMARY_SHARE = 0.1


def history_before(message: Message) -> list[Message]:
    """The messages of the branch that leads to `message`, oldest first: what it answers, never
    another version."""
    return selected_path(message.thread, through=message)[:-1]


def build_context(
    thread: Thread, message: Message, provider: Provider, model: str, *, reply_tokens: int = 4096
) -> tuple[str, list[Turn]]:
    """The system prompt and the history for the reply `message`."""
    project = thread.project
    system = build_system_prompt(
        thread_type=thread.thread_type,
        mode=thread.conversation_mode,
        project_name=project.name if project else None,
        project_instructions=project.instructions if project else None,
        skill=get_skill(thread.skill),
        today=thread.user.today(),
    )
    window = provider.context_window(model)
    summary_budget = int(window * SUMMARY_SHARE)
    budget = window - reply_tokens - estimate_tokens(len(system)) - summary_budget
    plan = plan_context(history_before(message), max(budget, 0))
    if plan.dropped:
        summary = ensure_summary(thread, plan.dropped, provider, model, max_tokens=min(summary_budget, 2000))
        system += f"\n\nSummary of the earlier part of this conversation:\n{summary}"
    return system, to_turns(plan.kept)
