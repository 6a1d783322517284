"""One reply, from the provider's stream to the database and the broker.

Runs in a runner thread inside an app context. Text is published to the broker as it
arrives and checkpointed into `messages.content` every few hundred milliseconds, so a
reload, a dropped stream or a restart loses nothing already produced.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from ..assistant.tools import ToolContext, run_tool, tools_for
from ..database import commit_without_expiring
from ..edges import clean_text, clean_value
from ..extensions import db
from ..llm.base import Finished, Message as Turn, Provider, ProviderError, TextDelta, ToolCall, Usage
from ..llm.registry import UnknownProvider
from ..models import Message, Project, Thread, utcnow
from . import usage
from .broker import Broker, StreamEvent
from .checkpoints import CheckpointWriter
from .context import assistant_turns, build_context
from .stops import StopWatcher
from .titles import refresh_title

log = logging.getLogger(__name__)

MAX_TOOL_ROUNDS = 8
MAX_REPLY_TOKENS = 4096
CONTINUE_PROMPT = (
    "Your previous reply was cut off at the length limit. Continue it exactly where it stopped, "
    "without repeating anything and without a preamble."
)
# What the app calls each way a provider can cut a reply short (models.CUT_REASONS).
_CUTS = {"max_tokens": "length", "refusal": "filter", "other": "other"}


class Stopped(Exception):
    """The user pressed Stop."""


@dataclass(frozen=True, slots=True)
class Ending:
    """How a reply ended: its status and, for the reader, why (a cut's reason, an error)."""

    status: str
    cut_reason: str | None = None
    note: str | None = None


COMPLETE = Ending("complete")


def cut_ending(finished: Finished, provider_name: str) -> Ending:
    """The ending of a reply that its provider stopped short, in words the reader can act on."""
    reason = _CUTS[finished.reason]
    detail = f" ({finished.detail})" if finished.detail else ""
    if reason == "length":
        return Ending("cut", reason)
    if reason == "filter":
        return Ending("cut", reason, f"Stopped by {provider_name}'s content filter{detail}.")
    return Ending("cut", reason, f"{provider_name} ended this reply early{detail}.")


class ReplyWriter:
    """Publishes a reply's events and keeps its text for the checkpoint writer.

    Deltas touch neither the database nor the message object: the checkpoint writer saves
    the text of every streaming reply together. Tool activity and the end of the reply are
    saved here, through the session, with the tool calls and the final status. Stop requests
    are the stop watcher's: it ends the reply (`stop_now`), and the writer drops whatever the
    provider sends afterwards.
    """

    def __init__(self, message: Message, broker: Broker, checkpoints: CheckpointWriter) -> None:
        self.broker, self.checkpoints = broker, checkpoints
        # A continued reply carries on with its text and its event numbers.
        self.seq = message.stream_seq
        self._parts: list[str] = [message.content] if message.content else []
        self._lock = threading.Lock()  # the checkpoint thread reads text and seq together
        self.ended = False
        self._announced = False
        self.rebind(message)

    def rebind(self, message: Message) -> None:
        """Carry on with `message` (as reloaded after a rollback); the text so far is kept."""
        # The id is kept apart: after a tool's commit the message is expired, and reading its
        # id from the checkpoint thread would load it there.
        self.message, self.message_id = message, message.id

    @property
    def text(self) -> str:
        return self.snapshot()[1]

    def snapshot(self) -> tuple[int, str]:
        with self._lock:
            text = "".join(self._parts)
            self._parts[:] = [text]  # later joins start from one piece
            return self.seq, text

    def _publish(self, kind: str, data: str) -> None:
        with self._lock:
            if self.ended:
                return
            if kind == "delta":
                self._parts.append(data)
            self.seq += 1
            seq = self.seq
        self.broker.publish(self.message_id, StreamEvent(seq, kind, data))

    def delta(self, text: str) -> None:
        self._publish("delta", text)
        self.checkpoints.changed(self)

    def activity(self, text: str) -> None:
        self._publish("tool", text)
        self.save()

    def save(self, *, last: bool = False) -> None:
        """Write the text and everything else set on the message, now.

        The last save keeps the session's objects loaded for the title that may follow; the
        others expire them, so that tools read what the user changed meanwhile.
        """
        self.message.stream_seq, self.message.content = self.snapshot()
        self.message.updated_at = utcnow()
        if last:
            commit_without_expiring()
        else:
            db.session.commit()

    def check_stop(self) -> None:
        if self.ended:
            raise Stopped

    def stop_now(self) -> tuple[int, str] | None:
        """End the reply at the text it has: its last event number and text, or None if it had ended."""
        with self._lock:
            if self.ended:
                return None
            self.ended = True
            text = "".join(self._parts)
            self._parts[:] = [text]
            return self.seq, text

    def announce_end(self, status: str) -> None:
        """Send `done` to the reply's streams and close its channel, once."""
        with self._lock:
            if self._announced:
                return
            self._announced = True
            self.seq += 1
            seq = self.seq
        self.broker.publish(self.message_id, StreamEvent(seq, "done", status))
        self.broker.close(self.message_id)


@dataclass
class RoundResult:
    calls: list[ToolCall] = field(default_factory=list)
    finished: Finished | None = None


def _stream_round(
    provider: Provider, writer: ReplyWriter, totals: dict[str, int], **request: Any
) -> RoundResult:
    result = RoundResult()
    writer.check_stop()  # a stop during a tool call ends the reply before the next request
    stream = provider.stream(**request)
    try:
        for event in stream:
            writer.check_stop()
            if isinstance(event, TextDelta):
                writer.delta(clean_text(event.text))
            elif isinstance(event, ToolCall):
                result.calls.append(ToolCall(clean_text(event.id), clean_text(event.name), clean_value(event.arguments)))
            elif isinstance(event, Usage):
                totals["input"] += event.input_tokens
                totals["output"] += event.output_tokens
            elif isinstance(event, Finished):
                result.finished = event
    finally:
        # Closing the generator closes the provider's HTTP response when we stop early.
        stream.close()
    return result


def _run_tools(calls: list[ToolCall], writer: ReplyWriter, thread: Thread) -> list[Turn]:
    ctx = ToolContext(user_id=thread.user_id, thread=thread, message_id=writer.message_id)
    text = writer.text
    offset = len(text)
    recorded = list(writer.message.tool_calls or [])
    results = []
    for call in calls:
        outcome = run_tool(call, ctx)
        results.append(outcome.result)
        recorded.append({
            "id": call.id, "name": call.name, "arguments": call.arguments, "offset": offset,
            "result": outcome.result.content, "is_error": outcome.result.is_error, "activity": outcome.activity,
        })
        writer.message.tool_calls = recorded
        writer.activity(outcome.activity)
    round_text = text[_round_start(recorded[: len(recorded) - len(calls)]):offset]
    return [Turn("assistant", round_text, tool_calls=tuple(calls)), Turn("user", tool_results=tuple(results))]


def _round_start(earlier_calls: list[dict[str, Any]]) -> int:
    return int(earlier_calls[-1]["offset"]) if earlier_calls else 0


def _converse(provider: Provider, model: str, writer: ReplyWriter, thread: Thread, totals: dict[str, int],
              *, continuing: bool) -> Ending:
    """Run model rounds and tool calls until the model ends its turn; return how the reply ended."""
    system, history = build_context(thread, writer.message, provider, model)
    if continuing:
        history = [*history, *assistant_turns(writer.message), Turn("user", CONTINUE_PROMPT)]
    tools = tools_for(thread)
    # End the transaction, so that the connection goes back to the pool while the provider
    # works; the message and thread stay loaded for the end of the reply.
    commit_without_expiring()
    for _ in range(MAX_TOOL_ROUNDS):
        result = _stream_round(provider, writer, totals, system=system, history=history, tools=tools,
                               model=model, max_tokens=MAX_REPLY_TOKENS)
        if result.finished is not None and result.finished.reason in _CUTS:
            return cut_ending(result.finished, provider.display_name)
        if not result.calls:
            return COMPLETE
        history = [*history, *_run_tools(result.calls, writer, thread)]
    writer.delta("\n\n*(Stopped after too many tool calls in one reply.)*")
    return COMPLETE


def generate_reply(message_id: str, *, registry: Any, broker: Broker, checkpoints: CheckpointWriter,
                   stops: StopWatcher, continuing: bool = False) -> None:
    """Produce the assistant message `message_id`, which the poster saved as `streaming`.

    `continuing`: the message is a reply cut at the length limit; its model goes on from its text.
    """
    message = _load(message_id)
    if message is None or message.status != "streaming":
        return
    writer = ReplyWriter(message, broker, checkpoints)
    stops.watch(writer)
    try:
        _produce(writer, registry, checkpoints, continuing=continuing)
    finally:
        stops.forget(message_id)


def _produce(writer: ReplyWriter, registry: Any, checkpoints: CheckpointWriter, *, continuing: bool) -> None:
    message, message_id, broker = writer.message, writer.message_id, writer.broker
    thread = message.thread
    totals = {"input": 0, "output": 0}
    provider = None
    wanted = (message.provider or thread.model_provider) if continuing else thread.model_provider
    try:
        provider = registry.get(wanted)
        model = (message.model if continuing else thread.model_name) or provider.default_model
        message.provider, message.model = provider.name, model
        ending = _converse(provider, model, writer, thread, totals, continuing=continuing)
    except Stopped:
        ending = Ending("stopped")
    except UnknownProvider:
        ending = Ending("error", note=(f"The provider \"{wanted}\" is not configured on this server. "
                                       "Pick another provider for this chat."))
    except ProviderError as error:
        ending = Ending("interrupted" if error.kind == "incomplete" else "error", note=error.user_message())
        log.warning("provider error", extra={"message_id": message_id, "kind": error.kind, "detail": error.detail})
    except Exception:
        log.exception("reply failed", extra={"message_id": message_id})
        db.session.rollback()
        message = db.session.get(Message, message_id)
        if message is None:  # the thread was deleted while the reply ran
            broker.close(message_id)
            return
        writer.rebind(message)
        ending = Ending("error", note="Something went wrong while writing this reply. Try again.")
    checkpoints.discard(message_id)
    try:
        status = _finish(writer, ending, totals, provider)
    except (StaleDataError, sa.exc.IntegrityError):
        # The thread was deleted while the reply ran: nothing is left to finish.
        db.session.rollback()
        broker.close(message_id)
        return
    if status == "complete" and provider is not None and not continuing:
        refresh_title(thread, provider, message.model)


def _load(message_id: str) -> Message | None:
    """The reply with its thread, project and user, in one query (the context needs them all)."""
    thread = joinedload(Message.thread)
    return db.session.scalar(
        sa.select(Message).where(Message.id == message_id)
        .options(thread.joinedload(Thread.project), thread.joinedload(Thread.user))
    )


def _finish(writer: ReplyWriter, ending: Ending, totals: dict[str, int], provider: Provider | None) -> str:
    """Save the reply's end and tell its streams; return the status it ended with."""
    message = writer.message
    if writer.ended:  # stopped, by this runner or by the stop watcher while the provider was quiet
        ending = Ending("stopped")
    status = ending.status
    message.status, message.cut_reason, message.error = status, ending.cut_reason, ending.note
    # A continued reply adds what its continuation used.
    message.input_tokens = (message.input_tokens or 0) + totals["input"]
    message.output_tokens = (message.output_tokens or 0) + totals["output"]
    now = utcnow()
    _touch(message.thread_id, now)
    if provider is not None and (totals["input"] or totals["output"]):
        usage.record(message.thread, message, provider.name, message.model or "", "chat",
                     totals["input"], totals["output"])
    writer.save(last=True)
    writer.announce_end(status)
    return status


def _touch(thread_id: str, now: datetime) -> None:
    """Mark the thread and its project active, as they are now (either may have changed meanwhile)."""
    unsynced = {"synchronize_session": False}
    db.session.execute(sa.update(Thread).where(Thread.id == thread_id).values(last_activity_at=now),
                       execution_options=unsynced)
    project_id = sa.select(Thread.project_id).where(Thread.id == thread_id).scalar_subquery()
    db.session.execute(sa.update(Project).where(Project.id == project_id).values(last_activity_at=now),
                       execution_options=unsynced)
