"""Anthropic Messages API, streamed, through the `anthropic` SDK.

The SDK makes the request (keys, retries before the first byte, status errors) and splits the
stream into its server-sent events; each event's JSON is read here as plain data, not built into
the SDK's typed models, which took a tenth of the server's processor time per reply
(`bench/chat.py`, part c).

Claude may think before it calls a tool, and the API wants those thinking
blocks back, signature intact, with the tool call they led to. They ride
inside the first ToolCall id of the message (`<tool id>#think:<base64 JSON>`),
which the engine treats as opaque, as the Gemini adapter does with its
thought signatures.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from webapp.llm import failures
from webapp.llm.base import (
    ErrorKind,
    Event,
    Finished,
    FinishReason,
    Message,
    ProviderError,
    TextDelta,
    ToolCall,
    ToolSpec,
    Usage,
)
from webapp.llm.connection import SDKProvider

if TYPE_CHECKING:
    import anthropic

_FINISH: dict[str | None, FinishReason] = {
    "end_turn": "end_turn",
    "stop_sequence": "end_turn",
    "tool_use": "tool_use",
    "max_tokens": "max_tokens",
    "model_context_window_exceeded": "max_tokens",
    "refusal": "refusal",
    # pause_turn (a server tool's long turn) and anything newer: "other".
}

_THINKING_MARK = "#think:"

# `error.type` of an error event, which can arrive inside a 200 stream.
_KIND_BY_ERROR_TYPE: dict[str, ErrorKind] = {
    "overloaded_error": "unavailable",
    "api_error": "unavailable",
    "timeout_error": "unavailable",
    "rate_limit_error": "rate_limit",
    "authentication_error": "auth",
    "permission_error": "auth",
    "invalid_request_error": "bad_request",
    "request_too_large": "bad_request",
    "not_found_error": "bad_request",
}


class AnthropicProvider(SDKProvider["anthropic.Anthropic"]):
    name = "anthropic"
    display_name = "Anthropic"

    def stream(
        self,
        *,
        system: str,
        history: Sequence[Message],
        tools: Sequence[ToolSpec],
        model: str | None,
        max_tokens: int,
    ) -> Iterator[Event]:
        import anthropic

        request = _request(system, history, tools, model or self.default_model, max_tokens)
        reply = _Reply()
        try:
            with self.client.messages.with_streaming_response.create(**request) as response:
                for sse in anthropic.Stream.raw_events(response.http_response):
                    reply.started = True
                    if sse.event == "error":
                        raise _stream_error(self.display_name, sse.data)
                    event = reply.feed(sse.event, sse.data)
                    if event is not None:
                        yield event
        except ProviderError:
            raise
        except Exception as exc:
            if not reply.stopped:
                raise self._failure(exc, started=reply.started) from exc
        yield from reply.finish(self.display_name)

    def _build_client(self) -> anthropic.Anthropic:
        import anthropic
        import httpx2

        s = self._settings
        return anthropic.Anthropic(
            api_key=s.api_key,
            base_url=s.base_url,
            timeout=httpx2.Timeout(s.read_timeout, connect=s.connect_timeout),
            max_retries=s.max_retries,
        )

    def _failure(self, exc: Exception, *, started: bool) -> ProviderError:
        import anthropic

        if isinstance(exc, anthropic.APIStatusError):
            kind = _KIND_BY_ERROR_TYPE.get(str(exc.type))
            if kind is None:
                # An unnamed error inside a 200 stream is the service failing mid-reply.
                kind = "unavailable" if exc.status_code < 400 else failures.kind_for_status(exc.status_code)
            return ProviderError(kind=kind, provider=self.display_name, detail=exc.message)
        mapped = failures.transport_failure(self.display_name, exc, started=started)
        return mapped or failures.unexpected_failure(self.display_name, exc)


class _Reply:
    """Assemble one streamed message into neutral events."""

    def __init__(self) -> None:
        self.started = False
        self.stopped = False
        self.stop_reason: str | None = None
        self.input_tokens = 0
        self.output_tokens = 0
        self.tools: dict[int, tuple[str, str, list[str]]] = {}
        self.thinking: dict[int, dict[str, str]] = {}
        self.thought: list[dict[str, str]] = []

    def feed(self, name: str | None, data: str) -> Event | None:
        if not data or name is None or name == "ping":
            return None
        event = json.loads(data)
        kind = event.get("type")
        if kind == "content_block_delta":
            return self._delta(event["index"], event["delta"])
        if kind == "content_block_start":
            self._start_block(event["index"], event["content_block"])
        elif kind == "content_block_stop":
            return self._stop_block(event["index"])
        elif kind == "message_start":
            self._count_input(event["message"].get("usage") or {})
        elif kind == "message_delta":
            self.stop_reason = (event.get("delta") or {}).get("stop_reason")
            self._count_delta(event.get("usage") or {})
        elif kind == "message_stop":
            self.stopped = True
        return None

    def finish(self, provider: str) -> Iterator[Event]:
        if not self.stopped:
            raise failures.incomplete(provider)
        yield Usage(self.input_tokens, self.output_tokens)
        yield Finished(_FINISH.get(self.stop_reason, "other"), self.stop_reason or "")

    def _start_block(self, index: int, block: dict[str, Any]) -> None:
        kind = block.get("type")
        if kind == "tool_use":
            self.tools[index] = (block["id"], block["name"], [])
        elif kind == "thinking":
            self.thinking[index] = {
                "type": "thinking",
                "thinking": block.get("thinking", ""),
                "signature": block.get("signature", ""),
            }
        elif kind == "redacted_thinking":
            self.thinking[index] = {"type": "redacted_thinking", "data": block.get("data", "")}

    def _delta(self, index: int, delta: dict[str, Any]) -> Event | None:
        kind = delta.get("type")
        if kind == "text_delta":
            return TextDelta(delta["text"]) if delta.get("text") else None
        if kind == "input_json_delta" and index in self.tools:
            self.tools[index][2].append(delta.get("partial_json", ""))
        elif kind == "thinking_delta" and index in self.thinking:
            self.thinking[index]["thinking"] += delta.get("thinking", "")
        elif kind == "signature_delta" and index in self.thinking:
            self.thinking[index]["signature"] = delta.get("signature", "")
        return None

    def _stop_block(self, index: int) -> ToolCall | None:
        if index in self.thinking:
            self.thought.append(self.thinking.pop(index))
            return None
        if index not in self.tools:
            return None
        call_id, name, parts = self.tools.pop(index)
        if self.thought:
            call_id += _THINKING_MARK + _encode(self.thought)
            self.thought = []
        return ToolCall.from_json(call_id, name, "".join(parts))

    def _count_input(self, usage: dict[str, Any]) -> None:
        # Cached prompt tokens are still prompt tokens for the context budget.
        self.input_tokens = (
            (usage.get("input_tokens") or 0)
            + (usage.get("cache_creation_input_tokens") or 0)
            + (usage.get("cache_read_input_tokens") or 0)
        )
        self.output_tokens = usage.get("output_tokens") or 0

    def _count_delta(self, usage: dict[str, Any]) -> None:
        # message_delta counts are running totals, so they replace, not add.
        if usage.get("input_tokens") is not None:
            self._count_input(usage)
        self.output_tokens = usage.get("output_tokens", self.output_tokens)


def _stream_error(provider: str, data: str) -> ProviderError:
    """An error event inside a 200 stream: the service failing mid-reply, or refusing the request."""
    try:
        error = json.loads(data).get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    kind = _KIND_BY_ERROR_TYPE.get(str(error.get("type")), "unavailable")
    return ProviderError(kind=kind, provider=provider, detail=str(error.get("message") or data))


def _request(
    system: str, history: Sequence[Message], tools: Sequence[ToolSpec], model: str, max_tokens: int
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "model": model,
        "max_tokens": max_tokens,
        "messages": [m for m in map(_message, history) if m["content"]],
        "stream": True,
    }
    if system:
        request["system"] = system
    if tools:
        request["tools"] = [{"name": t.name, "description": t.description, "input_schema": t.parameters} for t in tools]
    return request


def _message(message: Message) -> dict[str, Any]:
    if message.role == "assistant":
        return {"role": "assistant", "content": _assistant_blocks(message)}
    if not message.tool_results:
        return {"role": "user", "content": message.text}
    # Tool results must come first in the user turn that answers the calls.
    blocks: list[dict[str, Any]] = [
        {
            "type": "tool_result",
            "tool_use_id": r.tool_call_id.partition(_THINKING_MARK)[0],
            "content": r.content,
            "is_error": r.is_error,
        }
        for r in message.tool_results
    ]
    if message.text:
        blocks.append({"type": "text", "text": message.text})
    return {"role": "user", "content": blocks}


def _assistant_blocks(message: Message) -> list[dict[str, Any]]:
    thinking: list[dict[str, Any]] = []
    uses: list[dict[str, Any]] = []
    for call in message.tool_calls:
        call_id, _, thought = call.id.partition(_THINKING_MARK)
        thinking.extend(_decode(thought) if thought else ())
        uses.append({"type": "tool_use", "id": call_id, "name": call.name, "input": call.arguments})
    # Thinking leads the turn; the API rejects empty text blocks.
    text = [{"type": "text", "text": message.text}] if message.text else []
    return [*thinking, *text, *uses]


def _encode(blocks: list[dict[str, str]]) -> str:
    return base64.urlsafe_b64encode(json.dumps(blocks).encode()).decode("ascii")


def _decode(text: str) -> list[dict[str, Any]]:
    return json.loads(base64.urlsafe_b64decode(text))
