"""Which providers this installation can use, built once from its settings."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from webapp.llm.base import Provider
from webapp.llm.connection import ConnectionSettings
from webapp.llm.specs import PROVIDER_NAMES, SPECS, ProviderSpec

# Local servers ignore the key, but the SDK insists on one; never fall back
# to OPENAI_API_KEY, which would hand a real key to an arbitrary server.
_PLACEHOLDER_KEY = "not-needed"


class UnknownProvider(LookupError):
    """Raised for a provider name that does not exist or is not configured."""

    def __init__(self, name: str) -> None:
        spec = SPECS.get(name)
        if spec is not None:
            message = f"Provider {name!r} is not configured; set {spec.enabling_setting} to use it."
        else:
            message = f"Unknown provider {name!r}; known providers are {', '.join(PROVIDER_NAMES)}."
        super().__init__(message)
        self.name = name


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
        self._providers: dict[str, Provider] = {
            spec.name: spec.adapter(_settings(spec, config), _model(spec, config))
            for spec in SPECS.values()
            if _is_configured(spec, config)
        }

    def available(self) -> list[ProviderInfo]:
        return [ProviderInfo(p.name, p.display_name, p.default_model) for p in self._providers.values()]

    def describe(self) -> list[ProviderStatus]:
        """Every provider this app knows, configured or not."""
        return [
            ProviderStatus(
                spec.name,
                spec.display_name,
                spec.name in self._providers,
                spec.enabling_setting,
                self._providers[spec.name].default_model if spec.name in self._providers else None,
            )
            for spec in SPECS.values()
        ]

    def is_configured(self, name: str) -> bool:
        return name in self._providers

    def has_model(self) -> bool:
        """Whether any provider other than the offline one is configured."""
        return any(not SPECS[name].free for name in self._providers)

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


def preload_sdks(registry: ProviderRegistry) -> threading.Thread:
    """Import the configured providers' SDKs in the background, so the first reply does not wait."""
    # Importing one takes seconds on a cold start.
    modules = sorted({SPECS[info.name].sdk_module for info in registry.available()} - {None})
    thread = threading.Thread(
        target=lambda: [importlib.import_module(m) for m in modules], name="sdk-preload", daemon=True
    )
    thread.start()
    return thread


# Less than this leaves no room for the system prompt, the tools and a reply.
MIN_CONTEXT_WINDOW = 2_048


def build_registry(config: Mapping[str, Any]) -> ProviderRegistry:
    """Build the registry for an app; call once and keep it."""
    return ProviderRegistry(config)


def _is_configured(spec: ProviderSpec, config: Mapping[str, Any]) -> bool:
    return not spec.enabling_setting or bool(config.get(spec.enabling_setting))


def _settings(spec: ProviderSpec, config: Mapping[str, Any]) -> ConnectionSettings:
    return ConnectionSettings(
        api_key=config.get(spec.key_setting) or _PLACEHOLDER_KEY,
        base_url=config.get(spec.setting("BASE_URL")) or spec.default_base_url,
        connect_timeout=float(_setting_or(config, "LLM_CONNECT_TIMEOUT", 10)),
        read_timeout=float(_setting_or(config, "LLM_READ_TIMEOUT", 120)),
        max_retries=int(_setting_or(config, "LLM_MAX_RETRIES", 2)),
        context_window=_context_window(config, spec.setting("CONTEXT_WINDOW")),
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


def _model(spec: ProviderSpec, config: Mapping[str, Any]) -> str:
    return config.get(spec.setting("MODEL")) or spec.default_model
