"""A fake Chat Completions API: `chat.completion.chunk` data lines ending in [DONE]."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from tests.fakes.script import ErrorKind, ErrorReply, StreamReply
from tests.fakes.server import WIRE_ENCODING, FakeServer, RecordedRequest, Rendered

_FINISH = {"end_turn": "stop", "tool_use": "tool_calls", "max_tokens": "length", "refusal": "content_filter"}

_ERRORS: dict[ErrorKind, tuple[str, str | None]] = {
    "rate_limit": ("requests", "rate_limit_exceeded"),
    "auth": ("invalid_request_error", "invalid_api_key"),
    "server": ("server_error", None),
    "overloaded": ("server_error", "engine_overloaded"),
    "unavailable": ("server_error", None),
    "bad_request": ("invalid_request_error", None),
}


class FakeOpenAI(FakeServer):
    """Answers at /v1/chat/completions and /chat/completions (DeepSeek's path)."""

    routes = (r"(/v1)?/chat/completions",)
    models_route = r"(/v1)?/models"

    def models_page(self, request: RecordedRequest) -> dict[str, Any]:
        """Every model at once: the Models API does not page."""
        models = [
            {"id": name, "object": "model", "created": 1_700_000_000 + i, "owned_by": "system"}
            for i, name in enumerate(self.models)
        ]
        return {"object": "list", "data": models}

    def render(self, reply: StreamReply, request: RecordedRequest) -> Rendered:
        chunk = _chunker(reply.model)
        ending = [chunk([{"index": 0, "delta": {}, "finish_reason": reply.stop_reason or _FINISH[reply.stop]}])]
        if (request.json().get("stream_options") or {}).get("include_usage"):
            usage = {
                "prompt_tokens": reply.input_tokens,
                "completion_tokens": reply.output_tokens,
                "total_tokens": reply.input_tokens + reply.output_tokens,
            }
            ending.append(chunk([], usage=usage))
        ending.append(b"data: [DONE]\n\n")
        return Rendered(
            preamble=[chunk([_choice({"role": "assistant", "content": ""})])],
            content=_content(reply, chunk),
            ending=ending,
        )

    def render_stream_error(self, reply: StreamReply) -> bytes:
        kind, code = _ERRORS[reply.error]
        return _data({"error": {"message": "The server had an error", "type": kind, "param": None, "code": code}})

    def error_body(self, reply: ErrorReply) -> dict[str, Any]:
        kind, code = _ERRORS[reply.kind]
        return {"error": {"message": reply.message, "type": kind, "param": None, "code": code}}


def _content(reply: StreamReply, chunk: Any) -> Iterator[bytes]:
    for text in reply.text_chunks:
        yield chunk([_choice({"content": text})])
    for index, call in enumerate(reply.tool_calls):
        opening = {"index": index, "id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}
        yield chunk([_choice({"tool_calls": [opening]})])
        for piece in call.argument_chunks:
            yield chunk([_choice({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})])


def _chunker(model: str) -> Any:
    def chunk(choices: list[dict[str, Any]], usage: dict[str, int] | None = None) -> bytes:
        body: dict[str, Any] = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": model,
            "choices": choices,
        }
        if usage is not None:
            body["usage"] = usage
        return _data(body)

    return chunk


def _choice(delta: dict[str, Any]) -> dict[str, Any]:
    return {"index": 0, "delta": delta, "finish_reason": None}


def _data(body: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode(*WIRE_ENCODING)
