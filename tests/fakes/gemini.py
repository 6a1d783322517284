"""A fake Gemini API: `:streamGenerateContent?alt=sse` under /v1/ and /v1beta/.

Gemini sends each function call whole in one event; to see arguments split,
script `wire_chunk_bytes` so the event itself arrives in pieces.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

from tests.fakes.script import ErrorKind, ErrorReply, StreamReply
from tests.fakes.server import WIRE_ENCODING, FakeServer, RecordedRequest, Rendered

_FINISH = {"end_turn": "STOP", "tool_use": "STOP", "max_tokens": "MAX_TOKENS", "refusal": "SAFETY"}

_STATUS: dict[ErrorKind, str] = {
    "rate_limit": "RESOURCE_EXHAUSTED",
    "auth": "UNAUTHENTICATED",
    "server": "INTERNAL",
    "overloaded": "UNAVAILABLE",
    "unavailable": "UNAVAILABLE",
    "bad_request": "INVALID_ARGUMENT",
}


def thought_signature(call_id: str) -> bytes:
    """The signature the fake attaches to a function call, to check it comes back."""
    return f"signature-of-{call_id}".encode()


class FakeGemini(FakeServer):
    routes = (r"/v1(beta)?/models/[^/:]+:streamGenerateContent",)
    models_route = r"/v1(beta)?/models"

    def models_page(self, request: RecordedRequest) -> dict[str, Any]:
        """`pageSize` models at a time from `pageToken`; names starting "embedding" only embed."""
        names = list(self.models)
        start = int(request.query.get("pageToken", ["0"])[0])
        size = int(request.query.get("pageSize", ["50"])[0])
        page: dict[str, Any] = {"models": [_model(name) for name in names[start : start + size]]}
        if start + size < len(names):
            page["nextPageToken"] = str(start + size)
        return page

    def render(self, reply: StreamReply, request: RecordedRequest) -> Rendered:
        if reply.prompt_block:
            blocked = {
                "promptFeedback": {"blockReason": reply.prompt_block},
                "usageMetadata": _usage(reply),
                "modelVersion": reply.model,
                "responseId": "fake-response",
            }
            return Rendered(ending=[_data(blocked)])
        finish = reply.stop_reason or _FINISH[reply.stop]
        final = {
            "candidates": [{"content": {"parts": [{"text": ""}], "role": "model"}, "finishReason": finish, "index": 0}],
            "usageMetadata": _usage(reply),
            "modelVersion": reply.model,
            "responseId": "fake-response",
        }
        return Rendered(content=_content(reply), ending=[_data(final)])

    def render_stream_error(self, reply: StreamReply) -> bytes:
        return _data({"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}})

    def error_body(self, reply: ErrorReply) -> dict[str, Any]:
        error: dict[str, Any] = {"code": reply.status, "message": reply.message, "status": _STATUS[reply.kind]}
        if reply.kind == "auth" and reply.status == 400:
            # How Gemini really answers a bad key.
            error["status"] = "INVALID_ARGUMENT"
            error["details"] = [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                }
            ]
        return {"error": error}


def _model(name: str) -> dict[str, Any]:
    methods = ["embedContent"] if name.startswith("embedding") else ["generateContent", "countTokens"]
    return {
        "name": f"models/{name}",
        "version": "001",
        "displayName": name.replace("-", " ").title(),
        "description": "A model served by the fake.",
        "inputTokenLimit": 1_048_576,
        "outputTokenLimit": 65_536,
        "supportedGenerationMethods": methods,
    }


def _content(reply: StreamReply) -> Iterator[bytes]:
    for text in reply.text_chunks:
        yield _candidate({"text": text}, reply)
    for call in reply.tool_calls:
        part = {
            "functionCall": {"id": call.id, "name": call.name, "args": call.arguments},
            "thoughtSignature": base64.b64encode(thought_signature(call.id)).decode(),
        }
        yield _candidate(part, reply)


def _candidate(part: dict[str, Any], reply: StreamReply) -> bytes:
    body = {
        "candidates": [{"content": {"parts": [part], "role": "model"}, "index": 0}],
        "usageMetadata": {"promptTokenCount": reply.input_tokens, "totalTokenCount": reply.input_tokens},
        "modelVersion": reply.model,
        "responseId": "fake-response",
    }
    return _data(body)


def _usage(reply: StreamReply) -> dict[str, int]:
    return {
        "promptTokenCount": reply.input_tokens,
        "candidatesTokenCount": reply.output_tokens,
        "totalTokenCount": reply.input_tokens + reply.output_tokens,
    }


def _data(body: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(body, ensure_ascii=False)}\r\n\r\n".encode(*WIRE_ENCODING)
