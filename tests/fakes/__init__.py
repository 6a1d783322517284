"""Loopback servers that speak each model provider's streaming protocol.

    with FakeAnthropic() as fake:
        fake.script(text_reply("Hello", chunks=5))
        provider = build_registry({"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": fake.url}).get("anthropic")
        ...
        assert fake.requests[0].json()["messages"][0]["content"] == "Hi"

OpenAI-style clients take `fake.url + "/v1"` as their base URL. Replies are
neutral (`text_reply`, `token_reply(500, delay=0.02)`, `tool_reply`,
`error_reply(429)`) and each fake speaks them in its own wire format; options
cut a stream (`ending="close"|"break"`, `cut_after=`), send an error event
mid-stream (`error_after=`), delay headers or the first byte, or split every
event into `wire_chunk_bytes`-sized TCP writes. Each fake also lists models
at its provider's listing path, in its wire format and paging: `fake.models`
(names), `fake.models_failure` (an `error_reply`), `fake.models_delay`; those
requests are kept apart, in `fake.model_requests`.

`FakeOidcProvider` is an OpenID Connect provider (Google-, Microsoft- or Keycloak-style) for
single sign-on, and `FakeSmtp` a mail server that keeps what it is sent. Close registries you build
(`registry.close()`) so no pooled socket outlives a test.
"""

from tests.fakes.anthropic import FakeAnthropic, thinking_signature
from tests.fakes.gemini import FakeGemini, thought_signature
from tests.fakes.oidc import FakeOidcProvider, Person
from tests.fakes.openai import FakeOpenAI
from tests.fakes.script import (
    ErrorReply,
    ScriptedToolCall,
    StreamReply,
    error_reply,
    text_reply,
    token_reply,
    tool_reply,
)
from tests.fakes.server import FakeServer, RecordedRequest
from tests.fakes.smtp import FakeSmtp

__all__ = [
    "ErrorReply",
    "FakeAnthropic",
    "FakeGemini",
    "FakeOidcProvider",
    "FakeOpenAI",
    "FakeServer",
    "FakeSmtp",
    "Person",
    "RecordedRequest",
    "ScriptedToolCall",
    "StreamReply",
    "error_reply",
    "text_reply",
    "thinking_signature",
    "thought_signature",
    "token_reply",
    "tool_reply",
]
