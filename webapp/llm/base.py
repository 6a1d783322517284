"""Neutral types shared by every model provider.

Adapters translate between these types and one SDK's streaming API; the chat
engine only ever sees what is defined here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeAlias

from webapp.llm.specs import key_setting_of

__all__ = [
    "ErrorKind",
    "Event",
    "FinishReason",
    "Finished",
    "Message",
    "Provider",
    "ProviderError",
    "TextDelta",
    "ToolCall",
    "ToolResult",
    "ToolSpec",
    "Usage",
]

# Why a model stopped: its turn is over, it calls tools, it hit the length limit (its own or the
# context window), it refused or a content filter stopped it, or a reason of its provider's own.
FinishReason: TypeAlias = Literal["end_turn", "tool_use", "max_tokens", "refusal", "other"]
ErrorKind: TypeAlias = Literal["rate_limit", "auth", "unavailable", "bad_request", "incomplete"]


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool the model may call; `parameters` is a JSON schema object."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A complete tool call requested by the model (also a stream event).

    When the model sends arguments that are not valid JSON, `arguments` is
    `{"_raw": <the text received>}` so the tool can answer with an error the
    model can read and correct, instead of failing the whole reply.
    """

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, id: str, name: str, raw: str) -> ToolCall:
        """Build a call from the argument text a model streamed."""
        if not raw.strip():
            return cls(id, name, {})
        try:
            arguments = json.loads(raw)
        except ValueError:
            return cls(id, name, {"_raw": raw})
        if not isinstance(arguments, dict):
            return cls(id, name, {"_raw": raw})
        return cls(id, name, arguments)


@dataclass(frozen=True, slots=True)
class ToolResult:
    """The answer to one ToolCall, sent back in the next user-role message."""

    tool_call_id: str
    name: str
    content: str
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class Message:
    """One turn of history.

    An assistant message may carry text and tool calls; the results answering
    them travel in the next user-role message's `tool_results`.
    """

    role: Literal["user", "assistant"]
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_results: tuple[ToolResult, ...] = ()


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True, slots=True)
class Finished:
    """Always the last event, and only when the provider's end marker was seen.

    `detail` is the provider's own word for the reason (`content_filter`, `SPII`…), for the
    reader and the logs; two Finished events with the same meaning are equal.
    """

    reason: FinishReason
    detail: str = field(default="", compare=False)


Event: TypeAlias = TextDelta | ToolCall | Usage | Finished

_RETRYABLE: frozenset[ErrorKind] = frozenset({"rate_limit", "unavailable", "incomplete"})


class ProviderError(Exception):
    """Any failure talking to a provider, in terms the user can act on."""

    def __init__(self, *, kind: ErrorKind, provider: str, detail: str = "") -> None:
        super().__init__(f"{provider}: {kind}: {detail}" if detail else f"{provider}: {kind}")
        self.kind: ErrorKind = kind
        self.provider = provider
        self.detail = detail

    @property
    def retryable(self) -> bool:
        return self.kind in _RETRYABLE

    def user_message(self) -> str:
        return _USER_MESSAGES[self.kind].format(provider=self.provider, env=_env_hint(self.provider))

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only __init__ needs help to survive pickling (worker pools, Redis).
        return (_rebuild_error, (self.kind, self.provider, self.detail))


def _rebuild_error(kind: ErrorKind, provider: str, detail: str) -> ProviderError:
    return ProviderError(kind=kind, provider=provider, detail=detail)


_USER_MESSAGES: dict[ErrorKind, str] = {
    "rate_limit": "{provider} is rate limiting this key; try again in a minute.",
    "auth": "{provider} rejected the API key; check {env}.",
    "unavailable": "{provider} is unavailable right now; try again shortly.",
    "bad_request": "{provider} could not process this request.",
    "incomplete": "The reply from {provider} was cut off before it finished.",
}


def _env_hint(display_name: str) -> str:
    return key_setting_of(display_name) or "its API key setting"


class Provider(Protocol):
    """What the chat engine needs from a model provider."""

    name: str
    display_name: str
    default_model: str

    def stream(
        self,
        *,
        system: str,
        history: Sequence[Message],
        tools: Sequence[ToolSpec],
        model: str | None,
        max_tokens: int,
    ) -> Iterator[Event]:
        """Yield events for one model reply; raise ProviderError on any failure.

        Yields TextDelta, ToolCall (whole, arguments parsed) and Usage events,
        then exactly one Finished as the last event, but only when the
        provider's own end marker was received; a stream that ends without it
        raises ProviderError(kind="incomplete").
        """
        ...

    def context_window(self, model: str | None) -> int:
        """Return the model's context budget in tokens."""
        ...

    def list_models(self, *, timeout: float) -> Iterable[str]:
        """Yield the names of the models this provider offers; raise on any failure."""
        ...
