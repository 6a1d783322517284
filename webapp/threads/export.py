"""A thread as a Markdown or JSON download."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from ..chat.service import CUT_LABELS
from ..models import Message, ModeChange, Thread

UNTITLED = "Untitled chat"
_TYPE_LABELS = {"ba_assistant": "BA chat", "assistant": "Assistant chat"}
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def iso_utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z suffix, e.g. 2025-03-01T09:30:00Z."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def filename(thread: Thread, extension: str) -> str:
    """A download name from the title and the thread's start date, ASCII only."""
    ascii_title = unicodedata.normalize("NFKD", thread.title or "").encode("ascii", "ignore").decode()
    slug = _NOT_SLUG.sub("-", ascii_title.lower()).strip("-")[:60].strip("-") or "chat"
    return f"{slug}-{thread.created_at:%Y-%m-%d}.{extension}"


def as_json(thread: Thread, messages: Sequence[Message], *, project_name: str | None, now: datetime) -> str:
    document = {
        "thread": _thread_fields(thread, project_name),
        "exported_at": iso_utc(now),
        "messages": [_message_fields(message) for message in messages],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def as_markdown(thread: Thread, messages: Sequence[Message], *, project_name: str | None, now: datetime) -> str:
    lines = [f"# {thread.title or UNTITLED}", "", *_markdown_header(thread, project_name, now), ""]
    changes = thread.mode_change_list()
    for message in messages:
        # Each mode change goes where it happened: before the first message written after it.
        while changes and changes[0].at < message.created_at:
            lines += _markdown_mode_change(changes.pop(0))
        lines += ["---", "", *_markdown_message(message)]
    for change in changes:
        lines += _markdown_mode_change(change)
    return "\n".join(lines).rstrip() + "\n"


def _thread_fields(thread: Thread, project_name: str | None) -> dict[str, Any]:
    return {
        "id": thread.id,
        "title": thread.title,
        "type": thread.thread_type,
        "mode": thread.conversation_mode,
        "project": project_name,
        "provider": thread.model_provider,
        "model": thread.model_name,
        "created_at": iso_utc(thread.created_at),
        "last_activity_at": iso_utc(thread.last_activity_at),
        "mode_changes": [
            {"at": iso_utc(change.at), "from": change.old, "to": change.new} for change in thread.mode_change_list()
        ],
    }


def _message_fields(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "role": message.role,
        "created_at": iso_utc(message.created_at),
        "status": message.status,
        "cut_reason": message.cut_reason,
        "error": message.error,
        "provider": message.provider,
        "model": message.model,
        "content": message.content,
        "tool_calls": message.tool_calls or [],
        "input_tokens": message.input_tokens,
        "output_tokens": message.output_tokens,
    }


def _markdown_header(thread: Thread, project_name: str | None, now: datetime) -> list[str]:
    model = f" ({thread.model_name})" if thread.model_name else ""
    header = [
        f"- Type: {_TYPE_LABELS.get(thread.thread_type, thread.thread_type)}",
        f"- Project: {project_name or 'No project'}",
        f"- Provider: {thread.model_provider}{model}",
    ]
    if thread.conversation_mode:
        header.append(f"- Mode: {thread.conversation_mode}")
    return header + [f"- Started: {iso_utc(thread.created_at)}", f"- Exported: {iso_utc(now)}"]


def _markdown_message(message: Message) -> list[str]:
    status = message.status
    if status == "cut":
        status += f" ({CUT_LABELS.get(message.cut_reason or '', 'Ended early')})"
    details = [iso_utc(message.created_at) or "", f"status: {status}"]
    if message.provider:
        details.append(f"{message.provider} {message.model or ''}".strip())
    lines = [f"## {message.role.title()}", "", f"*{' · '.join(details)}*", "", message.content or "*(empty)*", ""]
    if message.error:
        lines += [f"> {'Note' if message.status == 'cut' else 'Error'}: {message.error}", ""]
    if message.tool_calls:
        lines += ["**Tool calls**", "", _fenced_json(message.tool_calls), ""]
    return lines


def _markdown_mode_change(change: ModeChange) -> list[str]:
    return ["---", "", f"*Mode changed from {change.old} to {change.new or 'none'} at {iso_utc(change.at)}.*", ""]


def _fenced_json(value: Any) -> str:
    body = json.dumps(value, indent=2, ensure_ascii=False)
    # A fence longer than any backtick run inside, so tool output cannot close it early.
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}json\n{body}\n{fence}"
