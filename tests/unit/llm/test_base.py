"""The neutral types: errors in plain words, and tool arguments from streamed JSON."""

from __future__ import annotations

import pickle

import pytest

from webapp.llm.base import ProviderError, ToolCall


@pytest.mark.parametrize(
    ("kind", "provider", "message"),
    [
        ("rate_limit", "Anthropic", "Anthropic is rate limiting this key; try again in a minute."),
        ("auth", "OpenAI", "OpenAI rejected the API key; check OPENAI_API_KEY."),
        ("unavailable", "Gemini", "Gemini is unavailable right now; try again shortly."),
        ("incomplete", "DeepSeek", "The reply from DeepSeek was cut off before it finished."),
        ("bad_request", "Anthropic", "Anthropic could not process this request."),
    ],
)
def test_user_messages_are_plain_words(kind: str, provider: str, message: str) -> None:
    assert ProviderError(kind=kind, provider=provider).user_message() == message  # type: ignore[arg-type]


def test_auth_hint_for_a_local_server_names_its_setting() -> None:
    error = ProviderError(kind="auth", provider="OpenAI-compatible server")

    assert error.user_message().endswith("check OPENAI_COMPATIBLE_API_KEY.")


@pytest.mark.parametrize(
    ("kind", "retryable"),
    [("rate_limit", True), ("unavailable", True), ("incomplete", True), ("auth", False), ("bad_request", False)],
)
def test_retryable_follows_the_kind(kind: str, retryable: bool) -> None:
    assert ProviderError(kind=kind, provider="OpenAI").retryable is retryable  # type: ignore[arg-type]


def test_errors_survive_pickling_with_their_fields() -> None:
    error = pickle.loads(pickle.dumps(ProviderError(kind="auth", provider="Gemini", detail="401")))

    assert (error.kind, error.provider, error.detail) == ("auth", "Gemini", "401")


def test_tool_arguments_parse_from_json() -> None:
    assert ToolCall.from_json("c1", "search", '{"query": "x"}') == ToolCall("c1", "search", {"query": "x"})


@pytest.mark.parametrize("raw", ['{"query": ', "[1, 2]", "not json"])
def test_unusable_tool_arguments_keep_the_raw_text(raw: str) -> None:
    assert ToolCall.from_json("c1", "search", raw).arguments == {"_raw": raw}


def test_no_tool_arguments_is_an_empty_object() -> None:
    assert ToolCall.from_json("c1", "search", "").arguments == {}
