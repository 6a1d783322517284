"""Posting, stopping, regenerating and editing replies; the rules around them.

Every action on a message names it by id, and is refused (409, with the reason) when that
message is not one the thread shows any more: a page left open never changes another message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from ..database import commit_without_expiring
from ..extensions import db
from ..models import Message, Thread, User, new_id, utcnow, visible_messages
from . import branches, usage
from .broker import Broker, BrokerUnavailable
from .lease import held, lease_from
from .runner import ReplyRunner

MAX_MESSAGE_CHARS = 32_000
UNDO_SECONDS = 30
BUDGET_WARNING_SHARE = Decimal("0.8")


class ChatError(Exception):
    """A request the chat cannot take; `status` is the HTTP status that fits it."""

    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ReplyInProgress(ChatError):
    status = 409


class BudgetExhausted(ChatError):
    status = 402


class ProviderUnavailable(ChatError):
    status = 422


class NotContinuable(ChatError):
    status = 409


class StaleAction(ChatError):
    """An action on a message that the thread no longer shows (another version was chosen, or it was deleted)."""

    status = 409


# How the page and the exports name each reason a provider cut a reply short (models.CUT_REASONS).
CUT_LABELS = {"length": "Cut off at the length limit", "filter": "Filtered", "other": "Ended early"}


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """What the chat rules need from the app's configuration."""

    registry: Any
    runner: ReplyRunner
    monthly_budget: Decimal


def clean_content(text: str | None) -> str:
    content = (text or "").strip()
    if not content:
        raise ChatError("Write a message first.")
    if len(content) > MAX_MESSAGE_CHARS:
        raise ChatError(f"Messages are limited to {MAX_MESSAGE_CHARS:,} characters; this one has {len(content):,}.")
    return content


def budget_state(user: User, budget: Decimal) -> tuple[Decimal, Decimal]:
    """This month's spend and the share of the budget it uses (0 when there is no budget)."""
    spent = usage.month_spend(user)
    return spent, (spent / budget if budget > 0 else Decimal(0))


def streaming_reply(thread: Thread) -> Message | None:
    return db.session.scalars(visible_messages(thread.id).where(Message.status == "streaming").limit(1)).first()


def is_orphaned(message: Message) -> bool:
    """A `streaming` message that nobody is producing any more: its runner's lease has lapsed."""
    return message.status == "streaming" and not held(message.lease_until)


def reconcile(thread: Thread) -> None:
    """Mark replies whose runner died as interrupted, keeping their text."""
    message = streaming_reply(thread)
    if message is not None and is_orphaned(message):
        mark_interrupted(message)


_INTERRUPTED = "The server stopped before this reply finished."


def mark_interrupted(message: Message) -> None:
    """Show a reply whose lease has lapsed as interrupted (unless its runner renewed it meanwhile)."""
    now = utcnow()
    db.session.execute(
        sa.update(Message)
        .where(
            Message.id == message.id,
            Message.status == "streaming",
            sa.or_(Message.lease_until.is_(None), Message.lease_until <= now),
        )
        .values(status="interrupted", error=_INTERRUPTED, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    db.session.refresh(message)


def _check_can_reply(thread: Thread, settings: ChatSettings, *, provider: str | None = None) -> None:
    """Refuse a new reply while one is written, without its provider, or past the budget."""
    current = streaming_reply(thread)
    if current is not None and is_orphaned(current):
        mark_interrupted(current)
    if current is not None and current.status == "streaming":
        raise ReplyInProgress("A reply is still being written: wait or press Stop.")
    provider = provider or thread.model_provider
    if not settings.registry.is_configured(provider):
        raise ProviderUnavailable(
            f'The provider "{provider}" is not configured on this server. Pick another provider for this chat.'
        )
    budget = thread.user.monthly_budget(settings.monthly_budget)
    spent, share = budget_state(thread.user, budget)
    if budget > 0 and share >= 1:
        raise BudgetExhausted(
            f"Your monthly budget is spent (${spent:.2f} of ${budget:.2f}); "
            "new replies resume on the 1st. Your administrator can raise your budget."
        )


def _new_reply(thread: Thread, parent_id: str | None) -> Message:
    now = utcnow()
    reply = Message(
        id=new_id(),
        thread_id=thread.id,
        parent_id=parent_id,
        role="assistant",
        status="streaming",
        content="",
        provider=thread.model_provider,
        model=thread.model_name,
        created_at=now,
        lease_until=lease_from(now),
    )
    db.session.add(reply)
    # The new reply ends the branch the thread shows.
    thread.current_leaf_id = reply.id
    return reply


def _new_question(thread: Thread, content: str, parent_id: str | None) -> Message:
    question = Message(
        id=new_id(), thread_id=thread.id, parent_id=parent_id, role="user", content=content, created_at=utcnow()
    )
    db.session.add(question)
    return question


def _launch(thread: Thread, reply: Message, settings: ChatSettings, *, continuing: bool = False) -> None:
    thread.last_activity_at = utcnow()
    # The poster answers with the messages it has just written: reading them back would only
    # cost queries on the way to the first token.
    commit_without_expiring()
    settings.runner.submit(reply.id, continuing=continuing)


def post_message(thread: Thread, text: str | None, settings: ChatSettings) -> tuple[Message, Message]:
    """Save the user's message at the end of the branch the thread shows, and start the reply to it."""
    content = clean_content(text)
    _check_can_reply(thread, settings)
    question = _new_question(thread, content, branches.selected_branch(thread).tip_id)
    reply = _new_reply(thread, question.id)
    _launch(thread, reply, settings)
    return question, reply


def _check_shown(message: Message) -> None:
    """Refuse an action on a message that the thread no longer shows (a page left open names it)."""
    if message.deleted_at is not None:
        raise StaleAction("This message was deleted. Reload the page to see the chat as it is.")
    if message.id not in branches.selected_branch(message.thread):
        raise StaleAction(
            "This message is no longer on the version of the chat that is shown. "
            "Reload the page to see the chat as it is."
        )


def regenerate(message: Message, settings: ChatSettings) -> Message:
    """Write the reply `message` again, as a new version beside it (also how a failed reply is retried)."""
    if message.role != "assistant":
        raise ChatError("Only a reply can be written again.")
    thread = message.thread
    _check_can_reply(thread, settings)
    _check_shown(message)
    if message.parent_id is None:
        raise ChatError("There is no message to answer yet.")
    reply = _new_reply(thread, message.parent_id)
    _launch(thread, reply, settings)
    return reply


def edit(message: Message, text: str | None, settings: ChatSettings) -> tuple[Message, Message]:
    """Send a new version of the user's message `message` (any of theirs the thread shows) and answer it."""
    if message.role != "user":
        raise ChatError("Only your own messages can be edited.")
    content = clean_content(text)
    thread = message.thread
    _check_can_reply(thread, settings)
    _check_shown(message)
    question = _new_question(thread, content, message.parent_id)
    reply = _new_reply(thread, question.id)
    _launch(thread, reply, settings)
    return question, reply


def select_version(message: Message) -> None:
    """Show the branch through `message`: its own latest continuation, as it was last shown or the newest."""
    if message.deleted_at is not None:
        raise StaleAction("This version was deleted. Reload the page to see the chat as it is.")
    thread = message.thread
    thread.current_leaf_id = branches.leaf_below(thread, message)
    db.session.commit()


def continue_reply(message: Message, settings: ChatSettings) -> None:
    """Ask the model that wrote a reply cut at the length limit to go on; its text continues in the same reply."""
    if message.role != "assistant" or message.status != "cut" or message.cut_reason != "length":
        raise NotContinuable("Only a reply cut off at the length limit can be continued.")
    thread = message.thread
    _check_can_reply(thread, settings, provider=message.provider)
    if branches.selected_branch(thread).last_id != message.id:
        raise NotContinuable("Only the last reply of a chat can be continued.")
    message.status, message.cut_reason, message.error = "streaming", None, None
    message.lease_until, message.stop_requested = lease_from(utcnow()), False
    _launch(thread, message, settings, continuing=True)


def request_stop(message: Message, broker: Broker) -> None:
    """Ask the reply's runner, in whichever process it runs, to stop; it keeps the text written so far."""
    if is_orphaned(message):
        mark_interrupted(message)
    if message.status != "streaming":
        return
    message.stop_requested = True
    db.session.commit()
    try:
        broker.request_stop(message.id)  # quicker where there is a broker; the database is enough
    except BrokerUnavailable:
        pass


def delete_message(message: Message) -> None:
    """Hide a message the thread shows; it can be restored for UNDO_SECONDS."""
    if message.status == "streaming":
        raise ReplyInProgress("Stop the reply before deleting it.")
    _check_shown(message)
    message.deleted_at = utcnow()
    db.session.commit()


def undo_delete(message: Message) -> None:
    if message.deleted_at is None:
        return
    if utcnow() - message.deleted_at > timedelta(seconds=UNDO_SECONDS):
        raise ChatError("It is too late to undo this deletion.")
    message.deleted_at = None
    db.session.commit()


def purge_deleted(thread_id: str) -> None:
    """Remove messages whose undo window has passed; what followed each now follows its parent."""
    cutoff = utcnow() - timedelta(seconds=UNDO_SECONDS)
    gone = dict(
        db.session.execute(
            sa.select(Message.id, Message.parent_id).where(
                Message.thread_id == thread_id, Message.deleted_at.is_not(None), Message.deleted_at < cutoff
            )
        ).all()
    )
    if not gone:
        return

    def survivor(parent_id: str | None) -> str | None:
        while parent_id in gone:
            parent_id = gone[parent_id]
        return parent_id

    for message_id, parent_id in gone.items():
        db.session.execute(
            sa.update(Message)
            .where(Message.parent_id == message_id, Message.id.not_in(gone))
            .values(parent_id=survivor(parent_id)),
            execution_options={"synchronize_session": False},
        )
        db.session.execute(
            sa.update(Thread)
            .where(Thread.id == thread_id, Thread.current_leaf_id == message_id)
            .values(current_leaf_id=survivor(parent_id)),
            execution_options={"synchronize_session": False},
        )
    db.session.execute(sa.delete(Message).where(Message.id.in_(gone)))
    db.session.commit()


def change_settings(
    thread: Thread,
    *,
    provider: str,
    model: str | None,
    mode: str | None,
    skill: str | None,
    registry: Any,
    skills: tuple[str, ...],
) -> None:
    """Switch the thread's provider, model, mode or skill; history carries over.

    A switch of mode under an existing conversation is kept, for the page to show where it happened.
    """
    if not registry.is_configured(provider):
        raise ProviderUnavailable(f'The provider "{provider}" is not configured on this server.')
    if thread.thread_type == "ba_assistant" and mode not in (None, "meeting", "refinement"):
        raise ChatError("Choose the meeting or the refinement mode.")
    if skill and skill not in skills:
        raise ChatError("That skill does not exist.")
    if model and len(model) > 100:
        raise ChatError("Model names are limited to 100 characters.")
    had_messages = db.session.scalar(sa.select(sa.exists().where(visible_messages(thread.id).whereclause)))
    if (
        thread.thread_type == "ba_assistant"
        and mode != thread.conversation_mode
        and thread.conversation_mode
        and had_messages
    ):
        thread.record_mode_change(mode, utcnow())
    thread.model_provider, thread.model_name = provider, (model or "").strip() or None
    if thread.thread_type == "ba_assistant":
        thread.conversation_mode, thread.skill = mode, skill or None
    db.session.commit()
