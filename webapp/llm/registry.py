"""Which providers this installation can use, built once from its settings."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from webapp.llm import models
from webapp.llm.base import Provider
from webapp.llm.connection import ConnectionSettings

# Providers in the order the app offers them; offline is always last.
PROVIDER_NAMES: tuple[str, ...] = ("anthropic", "openai", "gemini", "deepseek", "openai_compatible", "offline")

_PREFIX: dict[str, str] = {
    "anthropic": "ANTHROPIC",
    "openai": "OPENAI",
    "gemini": "GEMINI",
    "deepseek": "DEEPSEEK",
    "openai_compatible": "OPENAI_COMPATIBLE",
}

_DEFAULT_BASE_URLS: dict[str, str] = {
    "openai": "https://api.openai.com/v1",
    "deepseek": "https://api.deepseek.com",
}

# Local servers ignore the key, but the SDK insists on one; never fall back
# to OPENAI_API_KEY, which would hand a real key to an arbitrary server.
_PLACEHOLDER_KEY = "not-needed"


def _setting(name: str) -> str:
    """The setting that turns a provider on."""
    if name == "offline":
        return ""
    return "OPENAI_COMPATIBLE_BASE_URL" if name == "openai_compatible" else f"{_PREFIX[name]}_API_KEY"


class UnknownProvider(LookupError):
    """Raised for a provider name that does not exist or is not configured."""

    def __init__(self, name: str) -> None:
        if name in _PREFIX:
            setting = _setting(name)
            message = f"Provider {name!r} is not configured; set {setting} to use it."
        else:
            message = f"Unknown provider {name!r}; known providers are {', '.join(PROVIDER_NAMES)}."
        super().__init__(message)
        self.name = name


DISPLAY_NAMES: dict[str, str] = {
    "anthropic": "Anthropic",
    "openai": "OpenAI",
    "gemini": "Gemini",
    "deepseek": "DeepSeek",
    "openai_compatible": "OpenAI-compatible server",
    "offline": "Offline",
}


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    name: str
    display_name: str
    model: str


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    """A provider as the settings page shows it: never its key, only whether it is set."""

    name: str
    display_name: str
    configured: bool
    setting: str
    model: str | None


class ProviderRegistry:
    """The configured providers, each holding its own long-lived SDK client."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._providers: dict[str, Provider] = {}
        for name in PROVIDER_NAMES:
            if _is_configured(name, config):
                self._providers[name] = _BUILDERS[name](config)

    def available(self) -> list[ProviderInfo]:
        return [ProviderInfo(p.name, p.display_name, p.default_model) for p in self._providers.values()]

    def describe(self) -> list[ProviderStatus]:
        """Every provider this app knows, configured or not."""
        return [
            ProviderStatus(name, DISPLAY_NAMES[name], name in self._providers, _setting(name),
                           self._providers[name].default_model if name in self._providers else None)
            for name in PROVIDER_NAMES
        ]

    def is_configured(self, name: str) -> bool:
        return name in self._providers

    def close(self) -> None:
        """Release every SDK client's connections (at app shutdown, or after a test)."""
        for provider in self._providers.values():
            close = getattr(provider, "close", None)
            if close is not None:
                close()

    def get(self, name: str) -> Provider:
        try:
            return self._providers[name]
        except KeyError:
            raise UnknownProvider(name) from None


# The module each adapter's SDK lives in; importing one takes seconds on a cold start.
_SDK_MODULES: dict[str, str] = {
    "anthropic": "anthropic",
    "gemini": "google.genai",
    "openai": "openai",
    "deepseek": "openai",
    "openai_compatible": "openai",
}


def preload_sdks(registry: ProviderRegistry) -> threading.Thread:
    """Import the configured providers' SDKs in the background, so the first reply does not wait."""
    modules = sorted({_SDK_MODULES[info.name] for info in registry.available() if info.name in _SDK_MODULES})
    thread = threading.Thread(target=lambda: [importlib.import_module(m) for m in modules],
                              name="sdk-preload", daemon=True)
    thread.start()
    return thread


# Less than this leaves no room for the system prompt, the tools and a reply.
MIN_CONTEXT_WINDOW = 2_048


def build_registry(config: Mapping[str, Any]) -> ProviderRegistry:
    """Build the registry for an app; call once and keep it."""
    return ProviderRegistry(config)


def _is_configured(name: str, config: Mapping[str, Any]) -> bool:
    if name == "offline":
        return True
    if name == "openai_compatible":
        return bool(config.get("OPENAI_COMPATIBLE_BASE_URL"))
    return bool(config.get(f"{_PREFIX[name]}_API_KEY"))


def _settings(name: str, config: Mapping[str, Any]) -> ConnectionSettings:
    prefix = _PREFIX[name]
    return ConnectionSettings(
        api_key=config.get(f"{prefix}_API_KEY") or _PLACEHOLDER_KEY,
        base_url=config.get(f"{prefix}_BASE_URL") or _DEFAULT_BASE_URLS.get(name),
        connect_timeout=float(_setting_or(config, "LLM_CONNECT_TIMEOUT", 10)),
        read_timeout=float(_setting_or(config, "LLM_READ_TIMEOUT", 120)),
        max_retries=int(_setting_or(config, "LLM_MAX_RETRIES", 2)),
        context_window=_context_window(config, f"{prefix}_CONTEXT_WINDOW"),
    )


def _context_window(config: Mapping[str, Any], key: str) -> int | None:
    value = config.get(key)
    if value is None or value == "":
        return None
    tokens = int(value) if str(value).strip().isdigit() else 0
    if tokens < MIN_CONTEXT_WINDOW:
        raise ValueError(f"{key} must be a number of tokens, at least {MIN_CONTEXT_WINDOW:,}; it is {value!r}.")
    return tokens


def _setting_or(config: Mapping[str, Any], key: str, default: float) -> Any:
    # Settings read from an unset environment variable arrive as None or "".
    value = config.get(key)
    return default if value is None or value == "" else value


def _model(name: str, config: Mapping[str, Any]) -> str:
    return config.get(f"{_PREFIX[name]}_MODEL") or models.DEFAULT_MODELS[name]


def _anthropic(config: Mapping[str, Any]) -> Provider:
    from webapp.llm.anthropic import AnthropicProvider

    return AnthropicProvider(_settings("anthropic", config), default_model=_model("anthropic", config))


def _gemini(config: Mapping[str, Any]) -> Provider:
    from webapp.llm.gemini import GeminiProvider

    return GeminiProvider(_settings("gemini", config), default_model=_model("gemini", config))


def _openai(config: Mapping[str, Any]) -> Provider:
    from webapp.llm.openai_compat import OpenAICompatibleProvider

    return OpenAICompatibleProvider(
        _settings("openai", config),
        name="openai",
        display_name="OpenAI",
        default_model=_model("openai", config),
        # Current OpenAI models reject the older `max_tokens`.
        max_tokens_param="max_completion_tokens",
    )


def _deepseek(config: Mapping[str, Any]) -> Provider:
    from webapp.llm.openai_compat import OpenAICompatibleProvider

    return OpenAICompatibleProvider(
        _settings("deepseek", config),
        name="deepseek",
        display_name="DeepSeek",
        default_model=_model("deepseek", config),
        # V4 models think by default; replies with tool calls would then have
        # to carry the reasoning back, which the neutral history does not keep.
        extra_body={"thinking": {"type": "disabled"}},
    )


def _openai_compatible(config: Mapping[str, Any]) -> Provider:
    from webapp.llm.openai_compat import OpenAICompatibleProvider

    return OpenAICompatibleProvider(
        _settings("openai_compatible", config),
        name="openai_compatible",
        display_name="OpenAI-compatible server",
        default_model=_model("openai_compatible", config),
    )


def _offline(config: Mapping[str, Any]) -> Provider:
    from webapp.llm.offline import OfflineProvider

    return OfflineProvider()


_BUILDERS: dict[str, Callable[[Mapping[str, Any]], Provider]] = {
    "anthropic": _anthropic,
    "gemini": _gemini,
    "openai": _openai,
    "deepseek": _deepseek,
    "openai_compatible": _openai_compatible,
    "offline": _offline,
}
