"""What the thread page shows, gathered in a few queries."""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime
from typing import Any

from ..artifacts.service import thread_artifacts
from ..assistant.skills import all_skills
from ..chat import branches
from ..chat import service as chat
from ..chat.usage import thread_totals
from ..documents.service import list_documents
from ..llm.base import Usage
from ..llm.pricing import cost_of
from ..models import CONVERSATION_MODES, Document, Message, ModeChange, Thread

MODE_LABELS = {"meeting": "Meeting", "refinement": "Refinement"}
MODE_HINTS = {
    "meeting": "Discovery questions, one at a time, exploring edge cases.",
    "refinement": "Improve an existing draft: stories, criteria, a requirements section.",
}


def message_marks(branch: branches.Branch, messages: list[Message]) -> dict[str, Any]:
    """What the bubbles of `messages` need from their branch: each one's version switch, and
    which message is the last one shown (it alone offers Continue and answer choices)."""
    return {"versions": branch.versions(messages), "last_id": branch.last_id}


def conversation_context(thread: Thread, *, before: str | None = None, limit: int = 50) -> dict[str, Any]:
    """The newest `limit` messages of the branch shown (before the message `before`, if given),
    oldest first, with the mode changes that happened between them."""
    branch = branches.selected_branch(thread)
    ids = branch.ids
    if before and before in branch:
        ids = ids[: ids.index(before)]
    newest = branches.load(ids[-(limit + 1) :])
    messages = newest[-limit:]
    # The message just before this page, if any: a change before it belongs to an earlier page.
    previous = newest[0].created_at if len(ids) > limit else None
    notes_before, trailing_notes = _place_mode_notes(thread, messages, previous, newest_page=before is None)
    return {
        "messages": messages,
        "has_earlier": len(ids) > limit,
        "notes_before": notes_before,
        "trailing_notes": trailing_notes,
        **message_marks(branch, messages),
    }


def _place_mode_notes(
    thread: Thread, messages: list[Message], previous: datetime | None, *, newest_page: bool
) -> tuple[dict[str, list[ModeChange]], list[ModeChange]]:
    """Each mode change goes before the first message written after it, or after the last one."""
    before: dict[str, list[ModeChange]] = {}
    after: list[ModeChange] = []
    times = [m.created_at for m in messages]
    for change in thread.mode_change_list():
        if previous is not None and change.at <= previous:
            continue
        index = bisect_right(times, change.at)
        if index < len(messages):
            before.setdefault(messages[index].id, []).append(change)
        elif newest_page:
            after.append(change)
    return before, after


def chat_documents(thread: Thread) -> list[Document]:
    """The documents the chat's answers search: the assistant chat's own, or its project's."""
    if thread.thread_type == "assistant":
        return list_documents(user_id=thread.user_id, thread_id=thread.id)
    if thread.project_id:
        return list_documents(user_id=thread.user_id, project_id=thread.project_id)
    return []


def message_cost(message: Message) -> Any:
    return cost_of(message.provider or "", message.model or "", Usage(message.input_tokens, message.output_tokens))


def thread_page_context(
    thread: Thread, settings: chat.ChatSettings, *, before: str | None = None, max_upload_mb: int = 25
) -> dict[str, Any]:
    registry = settings.registry
    budget = thread.user.monthly_budget(settings.monthly_budget)
    spent, share = chat.budget_state(thread.user, budget)
    return {
        "thread": thread,
        "project": thread.project,
        **conversation_context(thread, before=before),
        "providers": registry.available(),
        "provider_configured": registry.is_configured(thread.model_provider),
        "modes": [(mode, MODE_LABELS[mode], MODE_HINTS[mode]) for mode in CONVERSATION_MODES],
        "skills": all_skills(),
        "totals": thread_totals(thread.id),
        "budget": {
            "spent": spent,
            "limit": budget,
            "share": share,
            "warn": share >= chat.BUDGET_WARNING_SHARE,
            "exhausted": share >= 1 and budget > 0,
        },
        "summarised": bool(thread.history_summary),
        "documents": chat_documents(thread),
        "max_message_chars": chat.MAX_MESSAGE_CHARS,
        "max_upload_mb": max_upload_mb,
        "thread_artifacts": thread_artifacts(thread.id),
    }
