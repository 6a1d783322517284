"""Gemini API, streamed, through the `google-genai` SDK.

Gemini sends each function call whole, so there is no argument text to
assemble. Gemini 3 models also attach a thought signature to a function call
that must come back with it on the next request; it rides inside the neutral
ToolCall id (`<call id>#sig:<base64>`), which the engine treats as opaque.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from webapp.llm import failures
from webapp.llm.base import (
    Event,
    Finished,
    FinishReason,
    Message,
    ProviderError,
    TextDelta,
    ToolCall,
    ToolResult,
    ToolSpec,
    Usage,
)
from webapp.llm.connection import SDKProvider

if TYPE_CHECKING:
    import httpx2
    from google import genai

_SIGNATURE_MARK = "#sig:"

_FINISH: dict[str, FinishReason] = {
    "MAX_TOKENS": "max_tokens",
    # The per-request token limit, with more to come (the SDK's automatic continuation is off).
    "CONTINUATION": "max_tokens",
    **dict.fromkeys(
        (
            "SAFETY",
            "RECITATION",
            "LANGUAGE",
            "BLOCKLIST",
            "PROHIBITED_CONTENT",
            "SPII",
            "IMAGE_SAFETY",
            "IMAGE_PROHIBITED_CONTENT",
            "IMAGE_RECITATION",
            "MODEL_ARMOR",
            "ESCALATION",
            "PUP_LIMITED_DISABLED",
        ),
        "refusal",
    ),
    # OTHER, MALFORMED_FUNCTION_CALL, TOO_MANY_TOOL_CALLS and the rest: "other".
}
# Stands for a refused prompt (no candidates) among the candidates' finish reasons.
_PROMPT_BLOCKED = "prompt blocked"


class GeminiProvider(SDKProvider["genai.Client"]):
    name = "gemini"
    display_name = "Gemini"

    def stream(
        self,
        *,
        system: str,
        history: Sequence[Message],
        tools: Sequence[ToolSpec],
        model: str | None,
        max_tokens: int,
    ) -> Iterator[Event]:
        # Gemini rejects a turn without parts, such as an empty assistant reply.
        contents = [c for c in map(_content, history) if c["parts"]]
        config = _config(system, tools, max_tokens)
        reply = _Reply()
        try:
            chunks = self.client.models.generate_content_stream(
                model=model or self.default_model, contents=contents, config=config
            )
            for chunk in chunks:
                reply.started = True
                yield from reply.feed(chunk)
        except Exception as exc:
            if reply.finish_reason is None:
                raise self._failure(exc, started=reply.started) from exc
        yield from reply.finish(self.display_name)

    def _build_client(self) -> genai.Client:
        from google import genai

        s = self._settings
        options: dict[str, Any] = {
            # The SDK sends one timeout for every phase of each request; the
            # hook below brings the connect phase back down.
            "timeout": int(s.read_timeout * 1000),
            "client_args": {"event_hooks": {"request": [self._limit_connect_timeout]}},
            "retry_options": {"attempts": s.max_retries + 1},
        }
        if s.base_url:
            options["base_url"] = s.base_url
        return genai.Client(vertexai=False, api_key=s.api_key, http_options=options)

    def _limit_connect_timeout(self, request: httpx2.Request) -> None:
        timeout = request.extensions.get("timeout")
        if isinstance(timeout, dict):
            request.extensions["timeout"] = {**timeout, "connect": self._settings.connect_timeout}

    def _failure(self, exc: Exception, *, started: bool) -> ProviderError:
        from google.genai import errors

        if isinstance(exc, errors.APIError):
            return ProviderError(kind=_api_error_kind(exc), provider=self.display_name, detail=str(exc))
        mapped = failures.transport_failure(self.display_name, exc, started=started)
        return mapped or failures.unexpected_failure(self.display_name, exc)


def _api_error_kind(exc: Any) -> Any:
    # Gemini answers a bad key with 400 INVALID_ARGUMENT, not 401.
    if "API_KEY_INVALID" in str(exc.details) or "API key not valid" in str(exc.message):
        return "auth"
    code = exc.code if isinstance(exc.code, int) else 0
    return failures.kind_for_status(code) if code >= 400 else "unavailable"


class _Reply:
    """Turn streamed GenerateContentResponse chunks into neutral events."""

    def __init__(self) -> None:
        self.started = False
        self.finish_reason: str | None = None
        self.tool_calls = 0
        self.usage: Usage | None = None

    def feed(self, chunk: Any) -> Iterator[Event]:
        if chunk.usage_metadata is not None:
            self.usage = _usage(chunk.usage_metadata)
        if not chunk.candidates:
            feedback = chunk.prompt_feedback
            if feedback is not None and feedback.block_reason:
                # A refused prompt is a whole answer with no candidates.
                self.finish_reason = f"{_PROMPT_BLOCKED}: {_value(feedback.block_reason)}"
            return
        candidate = chunk.candidates[0]
        if candidate.content is not None and candidate.content.parts:
            yield from self._parts(candidate.content.parts)
        if candidate.finish_reason is not None:
            self.finish_reason = _value(candidate.finish_reason)

    def finish(self, provider: str) -> Iterator[Event]:
        if self.finish_reason is None:
            raise failures.incomplete(provider)
        if self.usage is not None:
            yield self.usage
        yield Finished(self._reason(), self.finish_reason)

    def _parts(self, parts: Sequence[Any]) -> Iterator[Event]:
        for part in parts:
            if part.function_call is not None:
                self.tool_calls += 1
                yield _tool_call(part, self.tool_calls)
            elif part.text and not part.thought:
                yield TextDelta(part.text)

    def _reason(self) -> FinishReason:
        # Gemini reports STOP for a turn that ends in function calls too.
        if self.finish_reason == "STOP":
            return "tool_use" if self.tool_calls else "end_turn"
        if (self.finish_reason or "").startswith(_PROMPT_BLOCKED):
            return "refusal"
        return _FINISH.get(self.finish_reason or "", "other")


def _value(enum: Any) -> str:
    return str(getattr(enum, "value", enum))


def _usage(metadata: Any) -> Usage:
    # Thinking tokens are billed as output.
    output = (metadata.candidates_token_count or 0) + (metadata.thoughts_token_count or 0)
    return Usage(metadata.prompt_token_count or 0, output)


def _tool_call(part: Any, number: int) -> ToolCall:
    call = part.function_call
    call_id = call.id or f"gemini-{call.name}-{number}"
    if part.thought_signature:
        call_id += _SIGNATURE_MARK + base64.urlsafe_b64encode(part.thought_signature).decode("ascii")
    return ToolCall(call_id, call.name or "", dict(call.args or {}))


def _config(system: str, tools: Sequence[ToolSpec], max_tokens: int) -> dict[str, Any]:
    config: dict[str, Any] = {
        "max_output_tokens": max_tokens,
        # Our engine runs the tools, and never resends a reply it has shown.
        "automatic_function_calling": {"disable": True},
        "automatic_continuation": False,
    }
    if system:
        config["system_instruction"] = system
    if tools:
        declarations = [
            {"name": t.name, "description": t.description, "parameters_json_schema": t.parameters} for t in tools
        ]
        config["tools"] = [{"function_declarations": declarations}]
    return config


def _content(message: Message) -> dict[str, Any]:
    if message.role == "assistant":
        parts = [{"text": message.text}] if message.text else []
        parts.extend(_function_call_part(c) for c in message.tool_calls)
        return {"role": "model", "parts": parts}
    parts = [_function_response_part(r) for r in message.tool_results]
    if message.text or not parts:
        parts.append({"text": message.text})
    return {"role": "user", "parts": parts}


def _function_call_part(call: ToolCall) -> dict[str, Any]:
    call_id, _, signature = call.id.partition(_SIGNATURE_MARK)
    part: dict[str, Any] = {"function_call": {"name": call.name, "args": call.arguments}}
    if not call_id.startswith("gemini-"):
        part["function_call"]["id"] = call_id
    if signature:
        part["thought_signature"] = base64.urlsafe_b64decode(signature)
    return part


def _function_response_part(result: ToolResult) -> dict[str, Any]:
    call_id = result.tool_call_id.partition(_SIGNATURE_MARK)[0]
    key = "error" if result.is_error else "output"
    response: dict[str, Any] = {"name": result.name, "response": {key: result.content}}
    if not call_id.startswith("gemini-"):
        response["id"] = call_id
    return {"function_response": response}
