"""What a fake provider should answer, described once for every provider.

A test scripts neutral replies (text, tool calls, errors, cuts, pacing); each
fake server renders them in its own provider's wire protocol.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

Ending = Literal["complete", "close", "break"]
Stop = Literal["end_turn", "tool_use", "max_tokens", "refusal"]
ErrorKind = Literal["rate_limit", "auth", "server", "overloaded", "unavailable", "bad_request"]


@dataclass(frozen=True)
class ScriptedToolCall:
    id: str
    name: str
    # The argument JSON as the provider streams it, piece by piece.
    argument_chunks: tuple[str, ...]

    @property
    def arguments(self) -> dict[str, Any]:
        return json.loads("".join(self.argument_chunks))


@dataclass(frozen=True)
class StreamReply:
    """A 200 streaming reply.

    `ending` says how the body stops: "complete" sends the provider's end
    marker; "close" ends the HTTP body cleanly without it; "break" drops the
    connection in the middle of the chunked body. `cut_after` limits how many
    content events (text pieces and tool calls) go out before a cut. After
    `pause_after` content events the stream goes quiet for `pause` seconds.

    `stop` is said the way each provider usually says it (Anthropic's `refusal`, OpenAI's
    `content_filter`, Gemini's `SAFETY`…); `stop_reason` sends a provider's own reason as it
    is instead (`model_context_window_exceeded`, `SPII`…). `prompt_block` (Gemini) refuses
    the prompt itself: no candidates, only this block reason.
    """

    text_chunks: tuple[str, ...] = ()
    tool_calls: tuple[ScriptedToolCall, ...] = ()
    # Streamed as a signed thinking block first by fakes whose protocol has them.
    thinking: str = ""
    stop: Stop = "end_turn"
    stop_reason: str | None = None
    prompt_block: str | None = None
    input_tokens: int = 11
    output_tokens: int = 7
    delay: float = 0.0
    headers_delay: float = 0.0
    first_byte_delay: float = 0.0
    ending: Ending = "complete"
    cut_after: int | None = None
    pause_after: int | None = None
    pause: float = 0.0
    error_after: int | None = None
    error: ErrorKind = "overloaded"
    wire_chunk_bytes: int | None = None
    model: str = "fake-model"


@dataclass(frozen=True)
class ErrorReply:
    """A non-200 answer with the provider's error body."""

    status: int
    kind: ErrorKind
    message: str = "scripted failure"
    headers: dict[str, str] = field(default_factory=dict)


Scripted = StreamReply | ErrorReply


def text_reply(
    text: str,
    *,
    chunks: int = 1,
    delay: float = 0.0,
    input_tokens: int = 11,
    output_tokens: int | None = None,
    **options: Any,
) -> StreamReply:
    """A plain text answer split into `chunks` pieces, `delay` seconds apart."""
    size = max(1, -(-len(text) // max(1, chunks)))
    pieces = tuple(text[i : i + size] for i in range(0, len(text), size))
    return StreamReply(
        text_chunks=pieces,
        delay=delay,
        input_tokens=input_tokens,
        output_tokens=output_tokens if output_tokens is not None else len(pieces),
        **options,
    )


def token_reply(tokens: int, *, delay: float = 0.0, **options: Any) -> StreamReply:
    """A reply of `tokens` text events, one word each, for pacing and benchmarks."""
    pieces = tuple(f"word{i} " for i in range(tokens))
    return StreamReply(text_chunks=pieces, delay=delay, output_tokens=tokens, **options)


def tool_reply(
    name: str,
    arguments: dict[str, Any],
    *,
    call_id: str = "call_1",
    pieces: int = 3,
    text: str = "",
    **options: Any,
) -> StreamReply:
    """A reply that calls one tool, its argument JSON split into `pieces`."""
    raw = json.dumps(arguments, ensure_ascii=False)
    size = max(1, -(-len(raw) // max(1, pieces)))
    chunks = tuple(raw[i : i + size] for i in range(0, len(raw), size))
    call = ScriptedToolCall(call_id, name, chunks)
    return StreamReply(text_chunks=(text,) if text else (), tool_calls=(call,), stop="tool_use", **options)


def error_reply(status: int, kind: ErrorKind | None = None, **options: Any) -> ErrorReply:
    """An HTTP error with the provider's usual body for `status`."""
    return ErrorReply(status=status, kind=kind or _KIND_BY_STATUS.get(status, "server"), **options)


_KIND_BY_STATUS: dict[int, ErrorKind] = {
    400: "bad_request",
    401: "auth",
    403: "auth",
    429: "rate_limit",
    500: "server",
    503: "unavailable",
    529: "overloaded",
}
