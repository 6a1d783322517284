"""Which providers are configured, and how they are built and shared."""

from __future__ import annotations

import pytest

from tests.fakes import FakeAnthropic, FakeOpenAI, text_reply
from tests.unit.llm.conftest import Build, ask
from webapp.llm.base import Message
from webapp.llm.registry import ProviderInfo, UnknownProvider, build_registry

pytestmark = pytest.mark.timeout(10)

ALL_KEYS = {
    "ANTHROPIC_API_KEY": "a",
    "OPENAI_API_KEY": "o",
    "GEMINI_API_KEY": "g",
    "DEEPSEEK_API_KEY": "d",
    "OPENAI_COMPATIBLE_BASE_URL": "http://127.0.0.1:11434/v1",
    "OPENAI_COMPATIBLE_MODEL": "qwen3:8b",
}


def test_with_no_settings_only_offline_is_available() -> None:
    assert build_registry({}).available() == [ProviderInfo("offline", "Offline", "offline")]


def test_lists_configured_providers_with_offline_last() -> None:
    infos = build_registry(ALL_KEYS).available()

    assert [i.name for i in infos] == ["anthropic", "openai", "gemini", "deepseek", "openai_compatible", "offline"]
    assert infos[4] == ProviderInfo("openai_compatible", "OpenAI-compatible server", "qwen3:8b")


def test_models_come_from_settings_or_defaults() -> None:
    registry = build_registry({"DEEPSEEK_API_KEY": "d", "ANTHROPIC_API_KEY": "a", "ANTHROPIC_MODEL": "claude-opus-5-5"})

    assert registry.get("anthropic").default_model == "claude-opus-5-5"
    assert registry.get("deepseek").default_model == "deepseek-v4-flash"


def test_is_configured() -> None:
    registry = build_registry({"GEMINI_API_KEY": "g"})

    assert registry.is_configured("gemini")
    assert registry.is_configured("offline")
    assert not registry.is_configured("openai")
    assert not registry.is_configured("nonsense")


def test_an_empty_key_does_not_configure_a_provider() -> None:
    assert not build_registry({"OPENAI_API_KEY": ""}).is_configured("openai")


def test_unconfigured_provider_is_a_clear_lookup_error() -> None:
    with pytest.raises(LookupError, match="set OPENAI_API_KEY"):
        build_registry({}).get("openai")


def test_unknown_provider_is_a_clear_lookup_error() -> None:
    with pytest.raises(UnknownProvider, match="Unknown provider 'skynet'") as failure:
        build_registry({}).get("skynet")
    assert failure.value.name == "skynet"


def test_a_provider_and_its_client_are_built_once(build: Build) -> None:
    registry = build(ALL_KEYS)

    for name in ("anthropic", "openai", "gemini", "deepseek", "openai_compatible"):
        first, second = registry.get(name), registry.get(name)
        assert first is second
        assert first.client is second.client  # type: ignore[attr-defined]


def test_the_client_is_reused_across_replies(build: Build) -> None:
    with FakeAnthropic() as fake:
        fake.script(text_reply("one"), text_reply("two"))
        registry = build({"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": fake.url})
        provider = registry.get("anthropic")
        ask(provider, Message("user", "a"))
        client = provider.client  # type: ignore[attr-defined]
        ask(registry.get("anthropic"), Message("user", "b"))

        assert registry.get("anthropic").client is client  # type: ignore[attr-defined]
        assert len(fake.requests) == 2


def test_a_local_server_never_receives_the_openai_key(build: Build) -> None:
    with FakeOpenAI() as fake:
        fake.script(text_reply("local"))
        config = {"OPENAI_API_KEY": "sk-real-secret", "OPENAI_COMPATIBLE_BASE_URL": fake.url + "/v1"}
        ask(build(config).get("openai_compatible"), Message("user", "hi"))

        assert fake.requests[0].headers["authorization"] == "Bearer not-needed"


def test_openai_uses_max_completion_tokens_and_deepseek_turns_thinking_off(build: Build) -> None:
    with FakeOpenAI() as fake:
        fake.script(text_reply("a"), text_reply("b"))
        config = {
            "OPENAI_API_KEY": "o",
            "OPENAI_BASE_URL": fake.url + "/v1",
            "DEEPSEEK_API_KEY": "d",
            "DEEPSEEK_BASE_URL": fake.url,
        }
        registry = build(config)
        ask(registry.get("openai"), Message("user", "hi"))
        ask(registry.get("deepseek"), Message("user", "hi"))

        openai_body, deepseek_body = (r.json() for r in fake.requests)
        assert openai_body["max_completion_tokens"] == 256 and "max_tokens" not in openai_body
        assert deepseek_body["max_tokens"] == 256
        assert deepseek_body["thinking"] == {"type": "disabled"}
        assert deepseek_body["stream_options"] == {"include_usage": True}


def test_context_windows_are_sensible() -> None:
    registry = build_registry(ALL_KEYS)

    assert registry.get("anthropic").context_window(None) == 1_000_000
    assert registry.get("anthropic").context_window("claude-haiku-4-5") == 200_000
    assert registry.get("openai_compatible").context_window(None) == 8_192
    assert all(registry.get(i.name).context_window(None) > 4_000 for i in registry.available())


def test_unset_numeric_settings_fall_back_to_defaults(build: Build) -> None:
    registry = build(
        {"OPENAI_API_KEY": "o", "LLM_READ_TIMEOUT": None, "LLM_MAX_RETRIES": "", "LLM_CONNECT_TIMEOUT": "5"}
    )

    timeout = registry.get("openai").client.timeout  # type: ignore[attr-defined]
    assert (timeout.read, timeout.connect) == (120, 5)
    assert registry.get("openai").client.max_retries == 2  # type: ignore[attr-defined]


def test_a_local_server_context_window_comes_from_its_setting() -> None:
    assert build_registry(ALL_KEYS).get("openai_compatible").context_window(None) == 8_192
    sized = build_registry({**ALL_KEYS, "OPENAI_COMPATIBLE_CONTEXT_WINDOW": "32768"})
    assert sized.get("openai_compatible").context_window("qwen3:8b") == 32_768
    assert sized.get("openai").context_window(None) == build_registry(ALL_KEYS).get("openai").context_window(None)


@pytest.mark.parametrize("value", ["lots", "512", "-1"])
def test_a_bad_context_window_is_a_clear_error_at_start(value: str) -> None:
    with pytest.raises(ValueError, match="OPENAI_COMPATIBLE_CONTEXT_WINDOW must be a number of tokens"):
        build_registry({**ALL_KEYS, "OPENAI_COMPATIBLE_CONTEXT_WINDOW": value})


def test_every_providers_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from webapp.config import from_environment
    from webapp.llm.specs import SPECS

    for spec in SPECS.values():
        for suffix in spec.settings:
            monkeypatch.setenv(spec.setting(suffix), f"{spec.name}-{suffix}")
    config = from_environment(tmp_path)

    assert config["ANTHROPIC_MODEL"] == "anthropic-MODEL"
    assert config["OPENAI_COMPATIBLE_CONTEXT_WINDOW"] == "openai_compatible-CONTEXT_WINDOW"
    assert config["DEEPSEEK_BASE_URL"] == "deepseek-BASE_URL"
    assert config["DEFAULT_PROVIDER"] is None


def test_only_a_real_provider_counts_as_a_model() -> None:
    assert not build_registry({}).has_model()
    assert build_registry({"DEEPSEEK_API_KEY": "d"}).has_model()
