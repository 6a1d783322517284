"""Chat Completions, streamed, through the `openai` SDK.

One adapter serves OpenAI, DeepSeek and any server that speaks the same
protocol (Ollama, vLLM, LM Studio, llama.cpp); they differ only in base URL,
key and a couple of request options.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
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
    ToolSpec,
    Usage,
)
from webapp.llm.connection import ConnectionSettings, SDKProvider

if TYPE_CHECKING:
    import openai

_FINISH: dict[str | None, FinishReason] = {
    "stop": "end_turn",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "length": "max_tokens",
    "content_filter": "refusal",
    # DeepSeek's insufficient_system_resource, and anything a local server makes up: "other".
}


class OpenAICompatibleProvider(SDKProvider["openai.OpenAI"]):
    def __init__(
        self,
        settings: ConnectionSettings,
        *,
        name: str,
        display_name: str,
        default_model: str,
        max_tokens_param: str = "max_tokens",
        extra_body: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.display_name = display_name
        self._max_tokens_param = max_tokens_param
        self._extra_body = dict(extra_body) if extra_body else None
        super().__init__(settings, default_model=default_model)

    def stream(
        self,
        *,
        system: str,
        history: Sequence[Message],
        tools: Sequence[ToolSpec],
        model: str | None,
        max_tokens: int,
    ) -> Iterator[Event]:
        request = self._request(system, history, tools, model or self.default_model, max_tokens)
        reply = _Reply()
        try:
            with self.client.chat.completions.create(**request) as chunks:
                for chunk in chunks:
                    reply.started = True
                    yield from reply.feed(chunk)
        except Exception as exc:
            if reply.finish_reason is None:
                raise self._failure(exc, started=reply.started) from exc
        yield from reply.finish(self.display_name)

    def _request(
        self, system: str, history: Sequence[Message], tools: Sequence[ToolSpec], model: str, max_tokens: int
    ) -> dict[str, Any]:
        messages = [{"role": "system", "content": system}] if system else []
        for message in history:
            messages.extend(_messages(message))
        request: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            self._max_tokens_param: max_tokens,
        }
        if tools:
            request["tools"] = [_tool(t) for t in tools]
        if self._extra_body:
            request["extra_body"] = self._extra_body
        return request

    def _build_client(self) -> openai.OpenAI:
        import httpx2
        import openai

        s = self._settings
        return openai.OpenAI(
            api_key=s.api_key,
            base_url=s.base_url,
            timeout=httpx2.Timeout(s.read_timeout, connect=s.connect_timeout),
            max_retries=s.max_retries,
        )

    def _failure(self, exc: Exception, *, started: bool) -> ProviderError:
        import openai

        if isinstance(exc, openai.APIStatusError):
            kind = failures.kind_for_status(exc.status_code)
            return ProviderError(kind=kind, provider=self.display_name, detail=exc.message)
        mapped = failures.transport_failure(self.display_name, exc, started=started)
        if mapped is not None:
            return mapped
        if isinstance(exc, openai.APIError):
            # An error object sent inside a 200 stream.
            limited = "rate_limit" in f"{exc.code} {exc.type}"
            kind = "rate_limit" if limited else "unavailable"
            return ProviderError(kind=kind, provider=self.display_name, detail=exc.message)
        return failures.unexpected_failure(self.display_name, exc)


class _Reply:
    """Assemble streamed chunks into neutral events."""

    def __init__(self) -> None:
        self.started = False
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        # index -> [id, name, argument pieces]
        self.tools: dict[int, list[Any]] = {}

    def feed(self, chunk: Any) -> Iterator[Event]:
        if chunk.usage is not None:
            self.usage = Usage(chunk.usage.prompt_tokens or 0, chunk.usage.completion_tokens or 0)
        for choice in chunk.choices:
            if choice.index != 0:
                continue
            delta = choice.delta
            if delta.content:
                yield TextDelta(delta.content)
            if delta.tool_calls:
                self._collect(delta.tool_calls)
            if choice.finish_reason is not None:
                self.finish_reason = choice.finish_reason
                yield from self._tool_calls()

    def finish(self, provider: str) -> Iterator[Event]:
        if self.finish_reason is None:
            raise failures.incomplete(provider)
        if self.usage is not None:
            yield self.usage
        yield Finished(_FINISH.get(self.finish_reason, "other"), self.finish_reason)

    def _collect(self, deltas: Sequence[Any]) -> None:
        for delta in deltas:
            call = self.tools.setdefault(delta.index, ["", "", []])
            if delta.id:
                call[0] = delta.id
            function = delta.function
            if function is None:
                continue
            if function.name and not call[1]:
                call[1] = function.name
            if function.arguments:
                call[2].append(function.arguments)

    def _tool_calls(self) -> Iterator[ToolCall]:
        for index in sorted(self.tools):
            call_id, name, parts = self.tools[index]
            # Some local servers leave the id out; the engine still needs one.
            yield ToolCall.from_json(call_id or f"call_{index}", name, "".join(parts))
        self.tools.clear()


def _messages(message: Message) -> list[dict[str, Any]]:
    if message.role == "assistant":
        # An assistant turn with neither text nor calls is not valid on the wire.
        return [_assistant(message)] if message.text or message.tool_calls else []
    # One `tool` message per result, answering the calls of the turn before.
    out: list[dict[str, Any]] = [
        {"role": "tool", "tool_call_id": r.tool_call_id, "content": _result_text(r.content, r.is_error)}
        for r in message.tool_results
    ]
    if message.text or not out:
        out.append({"role": "user", "content": message.text})
    return out


def _assistant(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": "assistant", "content": message.text or None}
    if message.tool_calls:
        out["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
            }
            for c in message.tool_calls
        ]
    return out


def _result_text(content: str, is_error: bool) -> str:
    # The protocol has no error flag on tool results; say it in the text.
    return f"Error: {content}" if is_error else content


def _tool(spec: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": spec.name, "description": spec.description, "parameters": spec.parameters},
    }
