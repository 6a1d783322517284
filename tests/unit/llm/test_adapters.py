"""Every adapter, through its real SDK, against a loopback fake of its provider."""

from __future__ import annotations

import base64
import json
import socket
from typing import Any

import pytest

from tests.fakes import FakeServer, error_reply, text_reply, thinking_signature, thought_signature, tool_reply
from tests.unit.llm.conftest import SEARCH, Build, Case, MakeProvider, ask, ask_until_error, only
from webapp.llm.base import Finished, Message, Provider, TextDelta, ToolCall, ToolResult, Usage

pytestmark = pytest.mark.timeout(10)

HELLO = Message(role="user", text="Hello there")


def texts(events: list[Any]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def test_streams_text_then_usage_then_finished(provider: Provider, fake: FakeServer) -> None:
    fake.script(text_reply("The quick brown fox jumps.", chunks=5))

    events = ask(provider, HELLO)

    assert [type(e) for e in events] == [TextDelta] * 5 + [Usage, Finished]
    assert texts(events) == "The quick brown fox jumps."
    assert events[-1] == Finished("end_turn")


def test_sends_system_prompt_and_user_text(provider: Provider, fake: FakeServer) -> None:
    fake.script(text_reply("ok"))

    ask(provider, HELLO, system="You help business analysts.")

    body = json.dumps(fake.requests[0].json())
    assert "You help business analysts." in body
    assert "Hello there" in body


def test_reports_usage_figures(provider: Provider, fake: FakeServer) -> None:
    fake.script(text_reply("Counted.", input_tokens=1234, output_tokens=56))

    events = ask(provider, HELLO)

    assert Usage(input_tokens=1234, output_tokens=56) in events


def test_max_tokens_is_normalised(provider: Provider, fake: FakeServer) -> None:
    fake.script(text_reply("Cut at the limit", stop="max_tokens"))

    assert ask(provider, HELLO)[-1] == Finished("max_tokens")


# Every stop reason each SDK knows today, as its provider sends it, and what it means to the app.
STOP_REASONS = {
    "anthropic": [
        ("end_turn", "end_turn"),
        ("stop_sequence", "end_turn"),
        ("max_tokens", "max_tokens"),
        ("model_context_window_exceeded", "max_tokens"),
        ("refusal", "refusal"),
        ("pause_turn", "other"),
    ],
    "openai": [
        ("stop", "end_turn"),
        ("length", "max_tokens"),
        ("content_filter", "refusal"),
        ("insufficient_system_resource", "other"),
    ],
    "gemini": [
        ("STOP", "end_turn"),
        ("MAX_TOKENS", "max_tokens"),
        ("CONTINUATION", "max_tokens"),
        *(
            (reason, "refusal")
            for reason in (
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
            )
        ),
        *(
            (reason, "other")
            for reason in (
                "OTHER",
                "MALFORMED_FUNCTION_CALL",
                "UNEXPECTED_TOOL_CALL",
                "TOO_MANY_TOOL_CALLS",
                "MISSING_THOUGHT_SIGNATURE",
                "MALFORMED_RESPONSE",
                "IMAGE_OTHER",
                "NO_IMAGE",
                "FINISH_REASON_UNSPECIFIED",
            )
        ),
    ],
}
STOP_REASONS["deepseek"] = STOP_REASONS["openai_compatible"] = STOP_REASONS["openai"]


def test_each_provider_stop_reason_maps_to_its_meaning(provider: Provider, fake: FakeServer, case: Case) -> None:
    reasons = STOP_REASONS[case.name]
    fake.script(*(text_reply("Some text", stop_reason=raw) for raw, _ in reasons))

    finished = [ask(provider, HELLO)[-1] for _ in reasons]

    assert [(f.reason, f.detail) for f in finished] == [(meaning, raw) for raw, meaning in reasons]


@only("gemini")
def test_gemini_blocked_prompt_is_a_refusal(provider: Provider, fake: FakeServer) -> None:
    fake.script(text_reply("", prompt_block="PROHIBITED_CONTENT"))

    events = ask(provider, HELLO)

    assert texts(events) == "" and events[-1] == Finished("refusal")
    assert events[-1].detail == "prompt blocked: PROHIBITED_CONTENT"


def test_tool_call_arguments_split_over_chunks_arrive_whole(provider: Provider, fake: FakeServer) -> None:
    arguments = {"query": "acceptance criteria for the login story", "limit": 3}
    # Gemini sends a call in one event; small wire pieces split that event instead.
    fake.script(tool_reply("search_documents", arguments, pieces=6, wire_chunk_bytes=16))

    events = ask(provider, Message("user", "Find the login criteria"), tools=(SEARCH,))

    calls = [e for e in events if isinstance(e, ToolCall)]
    assert len(calls) == 1
    assert calls[0].name == "search_documents"
    assert calls[0].arguments == arguments
    assert events[-1] == Finished("tool_use")


def test_tool_spec_reaches_the_provider(provider: Provider, fake: FakeServer) -> None:
    fake.script(text_reply("ok"))

    ask(provider, HELLO, tools=(SEARCH,))

    body = json.dumps(fake.requests[0].json())
    assert "search_documents" in body
    assert "Search the user's documents." in body


def test_second_turn_carries_the_tool_result(provider: Provider, fake: FakeServer, case: Case) -> None:
    fake.script(tool_reply("search_documents", {"query": "login"}, call_id="call_7"), text_reply("Found it."))
    question = Message("user", "What does the login story say?")
    call = next(e for e in ask(provider, question, tools=(SEARCH,)) if isinstance(e, ToolCall))
    result = ToolResult(tool_call_id=call.id, name=call.name, content='{"results": ["Users log in with SSO."]}')

    events = ask(
        provider,
        question,
        Message("assistant", "", tool_calls=(call,)),
        Message("user", tool_results=(result,)),
        tools=(SEARCH,),
    )

    assert texts(events) == "Found it."
    sent_call, sent_result = TURN_READERS[case.name](fake.requests[1].json())
    assert sent_call == {"id": "call_7", "name": "search_documents", "arguments": {"query": "login"}}
    assert sent_result == {"id": "call_7", "content": '{"results": ["Users log in with SSO."]}'}


@only("gemini")
def test_gemini_returns_the_thought_signature(provider: Provider, fake: FakeServer) -> None:
    fake.script(tool_reply("search_documents", {"query": "login"}, call_id="call_7"), text_reply("ok"))
    call = next(e for e in ask(provider, HELLO, tools=(SEARCH,)) if isinstance(e, ToolCall))

    ask(
        provider,
        HELLO,
        Message("assistant", tool_calls=(call,)),
        Message("user", tool_results=(ToolResult(call.id, call.name, "none"),)),
    )

    part = fake.requests[1].json()["contents"][1]["parts"][0]
    assert base64.b64decode(part["thoughtSignature"]) == thought_signature("call_7")


@only("anthropic")
def test_anthropic_thinking_goes_back_with_its_tool_call(provider: Provider, fake: FakeServer) -> None:
    thinking = "The user wants the login story; search for it."
    fake.script(
        tool_reply("search_documents", {"query": "login"}, call_id="toolu_1", thinking=thinking), text_reply("ok")
    )
    call = next(e for e in ask(provider, HELLO, tools=(SEARCH,)) if isinstance(e, ToolCall))

    ask(
        provider,
        HELLO,
        Message("assistant", tool_calls=(call,)),
        Message("user", tool_results=(ToolResult(call.id, call.name, "none"),)),
    )

    assistant, answer = fake.requests[1].json()["messages"][1:]
    assert assistant["content"][0] == {
        "type": "thinking",
        "thinking": thinking,
        "signature": thinking_signature(thinking),
    }
    assert assistant["content"][1]["id"] == "toolu_1"
    assert answer["content"][0]["tool_use_id"] == "toolu_1"


@pytest.mark.parametrize(
    ("status", "kind"),
    [(429, "rate_limit"), (401, "auth"), (500, "unavailable"), (503, "unavailable"), (400, "bad_request")],
)
def test_http_errors_map_to_kinds(provider: Provider, fake: FakeServer, status: int, kind: str) -> None:
    fake.script(error_reply(status))

    events, error = ask_until_error(provider, HELLO)

    assert events == []
    assert error.kind == kind
    assert error.provider == provider.display_name


@only("anthropic")
def test_anthropic_overloaded_529_is_unavailable(provider: Provider, fake: FakeServer) -> None:
    fake.script(error_reply(529))

    _, error = ask_until_error(provider, HELLO)

    assert error.kind == "unavailable"
    assert error.user_message() == "Anthropic is unavailable right now; try again shortly."


@only("gemini")
def test_gemini_bad_key_400_is_auth(provider: Provider, fake: FakeServer) -> None:
    fake.script(error_reply(400, "auth", message="API key not valid. Please pass a valid API key."))

    _, error = ask_until_error(provider, HELLO)

    assert error.kind == "auth"
    assert error.user_message() == "Gemini rejected the API key; check GEMINI_API_KEY."


def test_sdk_retries_a_rate_limit_before_the_first_token(make_provider: MakeProvider, fake: FakeServer) -> None:
    provider = make_provider(LLM_MAX_RETRIES=1)
    fake.script(
        error_reply(429, headers={"retry-after-ms": "10", "retry-after": "0"}), text_reply("Second time lucky.")
    )

    events = ask(provider, HELLO)

    assert texts(events) == "Second time lucky."
    assert len(fake.requests) == 2


@pytest.mark.parametrize("ending", ["close", "break"])
def test_stream_cut_before_its_end_marker_is_incomplete(provider: Provider, fake: FakeServer, ending: str) -> None:
    fake.script(text_reply("one two three four five six", chunks=6, ending=ending, cut_after=4))

    events, error = ask_until_error(provider, HELLO)

    assert error.kind == "incomplete"
    assert error.retryable
    assert not any(isinstance(e, Finished) for e in events)
    assert texts(events) != ""


def test_error_event_inside_a_200_stream_is_unavailable(provider: Provider, fake: FakeServer) -> None:
    fake.script(text_reply("partial answer", chunks=4, error_after=3))

    events, error = ask_until_error(provider, HELLO)

    assert error.kind == "unavailable"
    assert not any(isinstance(e, Finished) for e in events)


@pytest.mark.parametrize("delay", ["headers_delay", "first_byte_delay"])
def test_slow_first_byte_hits_the_read_timeout(make_provider: MakeProvider, fake: FakeServer, delay: str) -> None:
    provider = make_provider(LLM_READ_TIMEOUT=0.3)
    fake.script(text_reply("too late", **{delay: 2.0}))

    events, error = ask_until_error(provider, HELLO)

    assert (events, error.kind) == ([], "unavailable")


def test_unreachable_server_is_unavailable(case: Case, build: Build) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = {
        f"{case.prefix}_API_KEY": "k",
        f"{case.prefix}_BASE_URL": f"http://127.0.0.1:{port}",
        "LLM_MAX_RETRIES": 0,
    }
    provider = build(config).get(case.name)

    _, error = ask_until_error(provider, HELLO)

    assert error.kind == "unavailable"


def test_non_ascii_split_inside_utf8_sequences(provider: Provider, fake: FakeServer) -> None:
    text = "Naïve café — 日本語のテキスト 🎉👩‍💻 done"
    # Five-byte wire pieces cut through the multi-byte characters.
    fake.script(text_reply(text, chunks=3, wire_chunk_bytes=5))

    events = ask(provider, Message("user", "Écris-moi 🙂"))

    assert texts(events) == text
    assert "Écris-moi 🙂" in json.dumps(fake.requests[0].json(), ensure_ascii=False)


def _anthropic_turn(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    use = body["messages"][-2]["content"][-1]
    result = body["messages"][-1]["content"][0]
    assert (use["type"], result["type"]) == ("tool_use", "tool_result")
    return (
        {"id": use["id"], "name": use["name"], "arguments": use["input"]},
        {"id": result["tool_use_id"], "content": result["content"]},
    )


def _openai_turn(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    call = body["messages"][-2]["tool_calls"][0]
    result = body["messages"][-1]
    assert result["role"] == "tool"
    return (
        {"id": call["id"], "name": call["function"]["name"], "arguments": json.loads(call["function"]["arguments"])},
        {"id": result["tool_call_id"], "content": result["content"]},
    )


def _gemini_turn(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    call = body["contents"][-2]["parts"][0]["functionCall"]
    response = body["contents"][-1]["parts"][0]["functionResponse"]
    return (
        {"id": call["id"], "name": call["name"], "arguments": call["args"]},
        {"id": response["id"], "content": response["response"]["output"]},
    )


TURN_READERS = {
    "anthropic": _anthropic_turn,
    "gemini": _gemini_turn,
    "openai": _openai_turn,
    "deepseek": _openai_turn,
    "openai_compatible": _openai_turn,
}


def test_stopping_early_releases_the_connection(provider: Provider, fake: FakeServer) -> None:
    fake.script(text_reply("one two three four", chunks=4, delay=0.05), text_reply("next reply"))
    events = provider.stream(system="", history=[HELLO], tools=(), model=None, max_tokens=256)

    assert isinstance(next(events), TextDelta)
    events.close()

    assert texts(ask(provider, HELLO)) == "next reply"


def test_empty_assistant_turns_are_left_out(provider: Provider, fake: FakeServer) -> None:
    fake.script(text_reply("ok"))

    ask(provider, HELLO, Message("assistant", ""), Message("user", "Still there?"))

    body = json.dumps(fake.requests[0].json())
    assert "Hello there" in body and "Still there?" in body


@only("anthropic")
def test_anthropic_event_the_api_would_never_send_ends_the_reply_with_an_error(
    provider: Provider, fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The events are read as plain JSON: a garbled one is a failed reply, never a crash.
    render = fake.render

    def garbled(reply: Any, request: Any) -> Any:
        rendered = render(reply, request)
        rendered.content = [*rendered.content, b'event: content_block_delta\ndata: {"type": "content_block_delta"\n\n']
        return rendered

    monkeypatch.setattr(fake, "render", garbled)
    fake.script(text_reply("Before the fault.", chunks=1))

    events, error = ask_until_error(provider, HELLO)

    assert texts(events) == "Before the fault."
    assert error.provider == "Anthropic"
    assert error.kind == "unavailable"
