"""A fake Anthropic Messages API: server-sent events at /v1/messages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from tests.fakes.script import ErrorKind, ErrorReply, StreamReply
from tests.fakes.server import WIRE_ENCODING, FakeServer, RecordedRequest, Rendered

_ERROR_TYPES: dict[ErrorKind, str] = {
    "rate_limit": "rate_limit_error",
    "auth": "authentication_error",
    "server": "api_error",
    "overloaded": "overloaded_error",
    "unavailable": "api_error",
    "bad_request": "invalid_request_error",
}


_STOP_REASONS = {"end_turn": "end_turn", "tool_use": "tool_use", "max_tokens": "max_tokens", "refusal": "refusal"}


class FakeAnthropic(FakeServer):
    routes = (r"/v1/messages",)
    models_route = r"/v1/models"

    def models_page(self, request: RecordedRequest) -> dict[str, Any]:
        """Newest first, `limit` at a time after `after_id`, as the Models API pages."""
        names = list(self.models)
        after = request.query.get("after_id", [""])[0]
        start = names.index(after) + 1 if after in names else 0
        limit = int(request.query.get("limit", ["20"])[0])
        page = names[start : start + limit]
        return {
            "data": [_model_info(name) for name in page],
            "has_more": start + limit < len(names),
            "first_id": page[0] if page else None,
            "last_id": page[-1] if page else None,
        }

    def render(self, reply: StreamReply, request: RecordedRequest) -> Rendered:
        start = {
            "type": "message_start",
            "message": {
                "id": "msg_fake",
                "type": "message",
                "role": "assistant",
                "model": reply.model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": reply.input_tokens, "output_tokens": 1},
            },
        }
        return Rendered(
            preamble=[_event("message_start", start), _event("ping", {"type": "ping"})],
            content=_content(reply),
            ending=[
                _event(
                    "message_delta",
                    {
                        "type": "message_delta",
                        "delta": {"stop_reason": reply.stop_reason or _STOP_REASONS[reply.stop], "stop_sequence": None},
                        "usage": {"output_tokens": reply.output_tokens},
                    },
                ),
                _event("message_stop", {"type": "message_stop"}),
            ],
        )

    def render_stream_error(self, reply: StreamReply) -> bytes:
        body = {"type": "error", "error": {"type": _ERROR_TYPES[reply.error], "message": "Overloaded"}}
        return _event("error", body)

    def error_body(self, reply: ErrorReply) -> dict[str, Any]:
        return {"type": "error", "error": {"type": _ERROR_TYPES[reply.kind], "message": reply.message}}


def _model_info(name: str) -> dict[str, Any]:
    return {
        "type": "model",
        "id": name,
        "display_name": name.replace("-", " ").title(),
        "created_at": "2026-01-01T00:00:00Z",
        "lifecycle": "active",
        "deprecated_at": None,
        "retires_at": None,
        "max_input_tokens": 1_000_000,
        "max_tokens": 64_000,
    }


def thinking_signature(thinking: str) -> str:
    """The signature the fake gives a thinking block, to check it comes back intact."""
    return f"sig:{len(thinking)}"


def _content(reply: StreamReply) -> Iterator[bytes]:
    index = 0
    if reply.thinking:
        yield _block_start(index, {"type": "thinking", "thinking": "", "signature": ""})
        yield _delta(index, {"type": "thinking_delta", "thinking": reply.thinking})
        yield _delta(index, {"type": "signature_delta", "signature": thinking_signature(reply.thinking)})
        yield _block_stop(index)
        index += 1
    if reply.text_chunks:
        yield _block_start(index, {"type": "text", "text": ""})
        for text in reply.text_chunks:
            yield _delta(index, {"type": "text_delta", "text": text})
        yield _block_stop(index)
        index += 1
    for call in reply.tool_calls:
        yield _block_start(index, {"type": "tool_use", "id": call.id, "name": call.name, "input": {}})
        for piece in call.argument_chunks:
            yield _delta(index, {"type": "input_json_delta", "partial_json": piece})
        yield _block_stop(index)
        index += 1


def _block_start(index: int, block: dict[str, Any]) -> bytes:
    return _event("content_block_start", {"type": "content_block_start", "index": index, "content_block": block})


def _delta(index: int, delta: dict[str, Any]) -> bytes:
    return _event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})


def _block_stop(index: int) -> bytes:
    return _event("content_block_stop", {"type": "content_block_stop", "index": index})


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode(*WIRE_ENCODING)
