"""One reply, from the provider's stream to the database and the broker.

Runs in a runner thread inside an app context. Text is published to the broker as it
arrives and checkpointed into `messages.content` every few hundred milliseconds, so a
reload, a dropped stream or a restart loses nothing already produced. The end of the reply
(its status, what it used) is saved once, and saved again until the database takes it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..assistant.tools import ToolContext, ToolOutcome, run_tool, tools_for
from ..database import commit_without_expiring
from ..edges import clean_text, clean_value
from ..extensions import db
from ..llm.base import Finished, Provider, ProviderError, TextDelta, ToolCall, ToolResult, Usage
from ..llm.base import Message as Turn
from ..llm.registry import UnknownProvider
from ..models import Message, Thread
from .broker import Broker, BrokerUnavailable
from .checkpoints import CheckpointWriter
from .context import assistant_turns, build_context
from .endings import ReplyEnd, release_lease, save_end
from .stops import StopWatcher
from .titles import refresh_title
from .usage import Meter
from .writer import ReplyWriter, Stopped

log = logging.getLogger(__name__)

MAX_TOOL_ROUNDS = 8
MAX_REPLY_TOKENS = 4096
CONTINUE_PROMPT = (
    "Your previous reply was cut off at the length limit. Continue it exactly where it stopped, "
    "without repeating anything and without a preamble."
)
# What the app calls each way a provider can cut a reply short (models.CUT_REASONS).
_CUTS = {"max_tokens": "length", "refusal": "filter", "other": "other"}


@dataclass(frozen=True, slots=True)
class Ending:
    """How a reply ended: its status and, for the reader, why (a cut's reason, an error)."""

    status: str
    cut_reason: str | None = None
    note: str | None = None


COMPLETE = Ending("complete")
STOPPED = Ending("stopped")


def cut_ending(finished: Finished, provider_name: str) -> Ending:
    """The ending of a reply that its provider stopped short, in words the reader can act on."""
    reason = _CUTS[finished.reason]
    detail = f" ({finished.detail})" if finished.detail else ""
    if reason == "length":
        return Ending("cut", reason)
    if reason == "filter":
        return Ending("cut", reason, f"Stopped by {provider_name}'s content filter{detail}.")
    return Ending("cut", reason, f"{provider_name} ended this reply early{detail}.")


@dataclass(frozen=True, slots=True)
class Engine:
    """What a reply needs from its process: providers, broker, the background writers, the database."""

    registry: Any
    broker: Broker
    checkpoints: CheckpointWriter
    stops: StopWatcher
    database: sa.Engine
    # How long the end of a reply waits for an unreachable database.
    patience: float
    # How long after a reply's end its thread's title is asked for.
    title_delay: float = 0.0


@dataclass
class Run:
    """One run of a reply (a continuation is a run of its own): its model and what it used."""

    writer: ReplyWriter
    thread: Thread
    continuing: bool
    # Read once: after a rollback the thread is expired, and the database may be away.
    thread_id: str = ""
    user_id: str = ""
    provider: Provider | None = None
    model: str | None = None
    meter: Meter = field(default_factory=Meter)


@dataclass
class RoundResult:
    calls: list[ToolCall] = field(default_factory=list)
    finished: Finished | None = None


def generate_reply(message_id: str, engine: Engine, *, continuing: bool = False) -> None:
    """Produce the assistant message `message_id`, which the poster saved as `streaming`.

    `continuing`: the message is a reply cut at the length limit; its model goes on from its text.
    """
    message = _load(message_id)
    if message is None or message.status != "streaming":
        return
    thread = message.thread
    run = Run(ReplyWriter(message, engine.broker, engine.checkpoints), thread, continuing, thread.id, thread.user_id)
    engine.checkpoints.track(run.writer)
    engine.stops.watch(run.writer)
    try:
        ending = _produce(run, message, engine.registry)
        ended = _finish(run, ending, engine)
    finally:
        engine.stops.forget(message_id)
        engine.checkpoints.release(message_id)
    if ended == "complete" and not continuing:
        _make_title(run, engine)


def _load(message_id: str) -> Message | None:
    """The reply with its thread, project and user, in one query (the context needs them all)."""
    thread = joinedload(Message.thread)
    return db.session.scalar(
        sa.select(Message)
        .where(Message.id == message_id)
        .options(thread.joinedload(Thread.project), thread.joinedload(Thread.user))
    )


def _produce(run: Run, message: Message, registry: Any) -> Ending:
    """Talk to the provider until the reply ends; how it ended (no exception gets out)."""
    wanted = (message.provider or run.thread.model_provider) if run.continuing else run.thread.model_provider
    try:
        run.provider = registry.get(wanted)
        run.model = (message.model if run.continuing else run.thread.model_name) or run.provider.default_model
        return _converse(run, message)
    except Stopped:
        return STOPPED
    except UnknownProvider:
        return Ending(
            "error",
            note=(f'The provider "{wanted}" is not configured on this server. Pick another provider for this chat.'),
        )
    except ProviderError as error:
        log.warning("provider error", extra={"message_id": message.id, "kind": error.kind, "detail": error.detail})
        return Ending("interrupted" if error.kind == "incomplete" else "error", note=error.user_message())
    except Exception:
        log.exception("reply failed", extra={"message_id": run.writer.message_id})
        _rollback()
        return Ending("error", note="Something went wrong while writing this reply. Try again.")


def _converse(run: Run, message: Message) -> Ending:
    """Run model rounds and tool calls until the model ends its turn; return how the reply ended."""
    assert run.provider is not None and run.model is not None
    system, history = build_context(run.thread, message, run.provider, run.model)
    if run.continuing:
        history = [*history, *assistant_turns(message), Turn("user", CONTINUE_PROMPT)]
    tools = tools_for(run.thread)
    # End the transaction, so that the connection goes back to the pool while the provider
    # works; the message and thread stay loaded for the end of the reply.
    commit_without_expiring()
    for _ in range(MAX_TOOL_ROUNDS):
        result = _stream_round(
            run, system=system, history=history, tools=tools, model=run.model, max_tokens=MAX_REPLY_TOKENS
        )
        if result.finished is not None and result.finished.reason in _CUTS:
            return cut_ending(result.finished, run.provider.display_name)
        if not result.calls:
            return COMPLETE
        history = [*history, *_run_tools(result.calls, run)]
    run.writer.delta("\n\n*(Stopped after too many tool calls in one reply.)*")
    return COMPLETE


def _stream_round(run: Run, **request: Any) -> RoundResult:
    assert run.provider is not None
    writer, result = run.writer, RoundResult()
    writer.check_stop()  # a stop during a tool call ends the reply before the next request
    reported: Usage | None = None
    received, answered, billed = 0, False, True
    stream = run.provider.stream(**request)
    try:
        for event in stream:
            answered = True
            writer.check_stop()
            if isinstance(event, TextDelta):
                writer.delta(clean_text(event.text))
                if not received:
                    # Let the reader's stream send the first text now (a turn for it, under gevent),
                    # before the events the provider sent with it (a short reply arrives whole) are read.
                    time.sleep(0)
                received += len(event.text)
            elif isinstance(event, ToolCall):
                received += len(json.dumps(event.arguments))
                result.calls.append(
                    ToolCall(clean_text(event.id), clean_text(event.name), clean_value(event.arguments))
                )
            elif isinstance(event, Usage):
                reported = event
            elif isinstance(event, Finished):
                result.finished = event
    except ProviderError as error:
        # A request the provider refused before answering (429, 401…) used nothing.
        billed = answered or error.kind == "incomplete"
        raise
    finally:
        # Closing the generator closes the provider's HTTP response when we stop early.
        stream.close()
        if billed:
            sent = _request_chars(request["system"], request["history"])
            run.meter.add(reported if result.finished else None, sent_chars=sent, received_chars=received)
    return result


def _request_chars(system: str, history: Sequence[Turn]) -> int:
    return len(system) + sum(
        len(turn.text)
        + sum(len(json.dumps(c.arguments)) for c in turn.tool_calls)
        + sum(len(r.content) for r in turn.tool_results)
        for turn in history
    )


def _run_tools(calls: list[ToolCall], run: Run) -> list[Turn]:
    writer, thread = run.writer, run.thread
    ctx = ToolContext(user_id=thread.user_id, thread=thread, message_id=writer.message_id)
    offset = len(writer.text)
    earlier = list(writer.tool_calls)
    results = []
    for call in calls:
        outcome = _tool_outcome(call, ctx)
        results.append(outcome.result)
        writer.activity(
            outcome.activity,
            {
                "id": call.id,
                "name": call.name,
                "arguments": call.arguments,
                "offset": offset,
                "result": outcome.result.content,
                "is_error": outcome.result.is_error,
                "activity": outcome.activity,
            },
        )
    round_text = writer.text[_round_start(earlier) : offset]
    return [Turn("assistant", round_text, tool_calls=tuple(calls)), Turn("user", tool_results=tuple(results))]


def _tool_outcome(call: ToolCall, ctx: ToolContext) -> ToolOutcome:
    """Run a tool and keep what it did; a database it cannot reach is a failure the model reads,
    not the end of the reply."""
    try:
        outcome = run_tool(call, ctx)
        db.session.commit()
        return outcome
    except sa.exc.SQLAlchemyError:
        log.warning("tool could not reach the database", extra={"tool": call.name})
        _rollback()
        reason = "The database could not be reached; nothing was done. Try again later."
        result = ToolResult(call.id, call.name, json.dumps({"error": reason}), is_error=True)
        return ToolOutcome(result, f"{call.name} failed: {reason}")


def _round_start(earlier_calls: list[dict[str, Any]]) -> int:
    return int(earlier_calls[-1]["offset"]) if earlier_calls else 0


def _rollback() -> None:
    try:
        db.session.rollback()
    except sa.exc.SQLAlchemyError:
        db.session.close()  # the connection is gone; the next use takes a new one


def _finish(run: Run, ending: Ending, engine: Engine) -> str | None:
    """Save the reply's end and tell its streams; the status it ended with, or None if it is gone."""
    writer = run.writer
    if writer.settle():  # stopped, by the stop watcher while the provider was quiet or spoke on
        ending = STOPPED
    snapshot = writer.snapshot()
    end = ReplyEnd(
        message_id=writer.message_id,
        thread_id=run.thread_id,
        user_id=run.user_id,
        status=ending.status,
        cut_reason=ending.cut_reason,
        note=ending.note,
        seq=snapshot.seq,
        text=snapshot.text,
        tool_calls=snapshot.tool_calls,
        provider=run.provider.name if run.provider else None,
        model=run.model,
        used=run.meter,
        keep_lease=ending.status == "complete" and not run.continuing,
    )
    _rollback()  # nothing of the session's is written at the end; its connection goes back
    try:
        saved = save_end(engine.database, end, patience=engine.patience)
    except sa.exc.SQLAlchemyError:
        log.exception("reply end not saved", extra={"message_id": writer.message_id})
        saved = False
    if not saved:
        _close_channel(engine.broker, writer.message_id)
        return None
    writer.announce_end(ending.status)
    return ending.status


def _close_channel(broker: Broker, message_id: str) -> None:
    try:
        broker.close(message_id)
    except BrokerUnavailable:
        pass


def _make_title(run: Run, engine: Engine) -> None:
    """Name the thread after its first exchange (now and then after that), then let go of the reply."""
    try:
        if run.provider is not None:
            refresh_title(run.thread, run.provider, run.model, delay=engine.title_delay)
    except Exception:
        log.exception("title not made", extra={"thread_id": run.thread_id})
        _rollback()
    try:
        release_lease(engine.database, run.writer.message_id)
    except sa.exc.SQLAlchemyError:
        log.warning("lease not released; it lapses by itself", extra={"message_id": run.writer.message_id})
