"""One reply, from the provider's stream to the database and the broker.

Runs in a runner thread inside an app context. Text is published to the broker as it
arrives and checkpointed into `messages.content` every few hundred milliseconds, so a
reload, a dropped stream or a restart loses nothing already produced.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from ..assistant.tools import ToolContext, run_tool, tools_for
from ..extensions import db
from ..llm.base import Finished, Message as Turn, Provider, ProviderError, TextDelta, ToolCall, Usage
from ..llm.registry import UnknownProvider
from ..models import Message, Thread, utcnow
from . import usage
from .broker import Broker, StreamEvent
from .context import build_context
from .titles import refresh_title

log = logging.getLogger(__name__)

# Often enough that a reload or a crash loses at most half a second of text.
CHECKPOINT_SECONDS = 0.45
STOP_CHECK_SECONDS = 0.1
MAX_TOOL_ROUNDS = 8
MAX_REPLY_TOKENS = 4096


class Stopped(Exception):
    """The user pressed Stop."""


@dataclass
class ReplyWriter:
    """Publishes a reply's events and checkpoints its text.

    Between checkpoints it reads no attribute of the message: a committed object is
    expired, and reading it would take a connection from the pool and hold it until the
    next commit, so a hundred replies waiting on their providers would hold a hundred.
    """

    message: Message
    broker: Broker
    seq: int = 0
    parts: list[str] = field(default_factory=list)
    last_checkpoint: float = field(default_factory=time.monotonic)
    last_stop_check: float = 0.0
    message_id: str = field(init=False)
    saved: str = field(init=False)  # the text as of the last flush

    def __post_init__(self) -> None:
        self.rebind(self.message)

    def rebind(self, message: Message) -> None:
        """Carry on with `message` (as reloaded after a rollback)."""
        self.message, self.message_id, self.saved = message, message.id, message.content

    @property
    def text(self) -> str:
        return self.saved + "".join(self.parts)

    def _publish(self, kind: str, data: str) -> None:
        self.seq += 1
        self.broker.publish(self.message_id, StreamEvent(self.seq, kind, data))

    def delta(self, text: str) -> None:
        self.parts.append(text)
        self._publish("delta", text)
        if time.monotonic() - self.last_checkpoint >= CHECKPOINT_SECONDS:
            self.checkpoint()

    def activity(self, text: str) -> None:
        self.flush()
        self._publish("tool", text)
        self.checkpoint()

    def flush(self) -> None:
        if self.parts:
            self.saved = self.message.content = self.text
            self.parts.clear()

    def checkpoint(self) -> None:
        self.flush()
        self.message.stream_seq = self.seq
        self.message.updated_at = utcnow()
        db.session.commit()
        self.last_checkpoint = time.monotonic()

    def check_stop(self) -> None:
        now = time.monotonic()
        if now - self.last_stop_check >= STOP_CHECK_SECONDS:
            self.last_stop_check = now
            if self.broker.stop_requested(self.message_id):
                raise Stopped


@dataclass
class RoundResult:
    calls: list[ToolCall] = field(default_factory=list)
    finished: Finished | None = None


def _stream_round(
    provider: Provider, writer: ReplyWriter, totals: dict[str, int], **request: Any
) -> RoundResult:
    result = RoundResult()
    stream = provider.stream(**request)
    try:
        for event in stream:
            writer.check_stop()
            if isinstance(event, TextDelta):
                writer.delta(event.text)
            elif isinstance(event, ToolCall):
                result.calls.append(event)
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
    ctx = ToolContext(user_id=thread.user_id, thread=thread, message_id=writer.message.id)
    writer.flush()
    offset = len(writer.message.content)
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
    round_text = writer.message.content[_round_start(recorded[: len(recorded) - len(calls)]):offset]
    return [Turn("assistant", round_text, tool_calls=tuple(calls)), Turn("user", tool_results=tuple(results))]


def _round_start(earlier_calls: list[dict[str, Any]]) -> int:
    return int(earlier_calls[-1]["offset"]) if earlier_calls else 0


def _converse(provider: Provider, model: str, writer: ReplyWriter, thread: Thread, totals: dict[str, int]) -> str:
    """Run model rounds and tool calls until the model ends its turn; return the final status."""
    system, history = build_context(thread, writer.message, provider, model)
    tools = tools_for(thread)
    # End the transaction, so that the connection goes back to the pool while the provider works.
    db.session.commit()
    for _ in range(MAX_TOOL_ROUNDS):
        result = _stream_round(provider, writer, totals, system=system, history=history, tools=tools,
                               model=model, max_tokens=MAX_REPLY_TOKENS)
        if not result.calls:
            return "complete"
        history = [*history, *_run_tools(result.calls, writer, thread)]
    writer.delta("\n\n*(Stopped after too many tool calls in one reply.)*")
    return "complete"


def generate_reply(message_id: str, *, registry: Any, broker: Broker) -> None:
    """Produce the assistant message `message_id`, which the poster saved as `streaming`."""
    message = db.session.get(Message, message_id)
    if message is None or message.status != "streaming":
        return
    thread = message.thread
    writer = ReplyWriter(message, broker)
    totals = {"input": 0, "output": 0}
    provider = None
    try:
        provider = registry.get(thread.model_provider)
        model = thread.model_name or provider.default_model
        message.provider, message.model = provider.name, model
        status = _converse(provider, model, writer, thread, totals)
    except Stopped:
        status = "stopped"
    except UnknownProvider:
        status, message.error = "error", (
            f"The provider \"{thread.model_provider}\" is not configured on this server. "
            "Pick another provider for this chat.")
    except ProviderError as error:
        status, message.error = ("interrupted" if error.kind == "incomplete" else "error"), error.user_message()
        log.warning("provider error", extra={"message_id": message_id, "kind": error.kind, "detail": error.detail})
    except Exception:
        log.exception("reply failed", extra={"message_id": message_id})
        db.session.rollback()
        message = db.session.get(Message, message_id)
        if message is None:  # the thread was deleted while the reply ran
            broker.close(message_id)
            return
        writer.rebind(message)
        status, message.error = "error", "Something went wrong while writing this reply. Try again."
    try:
        _finish(writer, status, totals, provider)
    except (StaleDataError, sa.exc.IntegrityError):
        # The thread was deleted while the reply ran: nothing is left to finish.
        db.session.rollback()
        broker.close(message_id)
        return
    if status == "complete" and provider is not None:
        refresh_title(thread, provider, message.model)


def _finish(writer: ReplyWriter, status: str, totals: dict[str, int], provider: Provider | None) -> None:
    message = writer.message
    writer.flush()
    message.status = status
    message.input_tokens, message.output_tokens = totals["input"], totals["output"]
    message.stream_seq = writer.seq
    now = utcnow()
    message.thread.last_activity_at = now
    if message.thread.project is not None:
        message.thread.project.last_activity_at = now
    if provider is not None and (totals["input"] or totals["output"]):
        usage.record(message.thread, message, provider.name, message.model or "", "chat",
                     totals["input"], totals["output"])
    db.session.commit()
    writer.seq += 1
    writer.broker.publish(message.id, StreamEvent(writer.seq, "done", status))
    writer.broker.close(message.id)
