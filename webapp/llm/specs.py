"""What the app knows about each model provider, one spec per provider.

A spec holds a provider's facts: the settings that configure it, how its adapter and SDK
client are built, its default model, its models' context windows, how its models are
listed, and their prices. The settings, the registry, the offline provider's help, the
error hints and the prices all read them from here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from webapp.llm.base import Provider
    from webapp.llm.connection import ConnectionSettings

# A model list longer than this is cut: a picker cannot show more, and a server may send anything.
MAX_LISTED_MODELS = 500
MODEL_NAME_MAX = 100


@dataclass(frozen=True, slots=True)
class PricePeriod:
    """A model's price from `since` on, in USD per million tokens."""

    since: dt.date
    input: Decimal
    output: Decimal


def _prices(*periods: tuple[str, str, str]) -> tuple[PricePeriod, ...]:
    # Strings here, Decimal in the period: prices are money, not floats.
    return tuple(PricePeriod(dt.date.fromisoformat(s), Decimal(i), Decimal(o)) for s, i, o in periods)


Adapter = Callable[["ConnectionSettings", str], "Provider"]
ModelLister = Callable[[Any, float], Iterable[str]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderSpec:
    """One provider's facts. `env_prefix` names its settings (`<prefix>_API_KEY`, ...)."""

    name: str
    display_name: str
    env_prefix: str = ""
    # The setting whose presence turns the provider on (after the prefix).
    enabled_by: str = "API_KEY"
    settings: tuple[str, ...] = ("API_KEY", "BASE_URL", "MODEL")
    default_base_url: str | None = None
    # What to say after "for" in the list of settings that connect a model.
    setup_hint: str = ""
    sdk_module: str | None = None
    adapter: Adapter
    default_model: str
    # (model name prefix, context window in tokens); the first match wins.
    windows: tuple[tuple[str, int], ...] = ()
    fallback_window: int
    # Lists the models through the SDK client; without one, the default model is the only one.
    list_models: ModelLister | None = None
    # Checked 2026-11-22 against the providers' published prices.
    prices: Mapping[str, tuple[PricePeriod, ...]] = field(default_factory=dict)
    # Replies cost nothing, whatever the model (no price means "unknown" otherwise).
    free: bool = False

    def setting(self, suffix: str) -> str:
        """A setting's environment name ("" for a provider without settings)."""
        return f"{self.env_prefix}_{suffix}" if self.env_prefix else ""

    @property
    def key_setting(self) -> str:
        return self.setting("API_KEY")

    @property
    def enabling_setting(self) -> str:
        """The setting that turns the provider on ("" for one that is always on)."""
        return self.setting(self.enabled_by)

    def context_window(self, model: str) -> int:
        """The token budget of `model`, or a cautious default for unknown models."""
        for prefix, tokens in self.windows:
            if model.startswith(prefix):
                return tokens
        return self.fallback_window

    def price(self, model: str, day: dt.date) -> PricePeriod | None:
        """The price in force on `day`, if the model has one."""
        started = [p for p in self.prices.get(model, ()) if p.since <= day]
        return max(started, key=lambda p: p.since) if started else None


# Building adapters: each imports its SDK only when the provider is configured.


def _anthropic(settings: ConnectionSettings, model: str) -> Provider:
    from webapp.llm.anthropic import AnthropicProvider

    return AnthropicProvider(settings, default_model=model)


def _gemini(settings: ConnectionSettings, model: str) -> Provider:
    from webapp.llm.gemini import GeminiProvider

    return GeminiProvider(settings, default_model=model)


def _openai(settings: ConnectionSettings, model: str) -> Provider:
    from webapp.llm.openai_compat import OpenAICompatibleProvider

    # Current OpenAI models reject the older `max_tokens`.
    return OpenAICompatibleProvider(
        settings, name="openai", display_name="OpenAI", default_model=model, max_tokens_param="max_completion_tokens"
    )


def _deepseek(settings: ConnectionSettings, model: str) -> Provider:
    from webapp.llm.openai_compat import OpenAICompatibleProvider

    # V4 models think by default; replies with tool calls would then have
    # to carry the reasoning back, which the neutral history does not keep.
    return OpenAICompatibleProvider(
        settings,
        name="deepseek",
        display_name="DeepSeek",
        default_model=model,
        extra_body={"thinking": {"type": "disabled"}},
    )


def _openai_compatible(settings: ConnectionSettings, model: str) -> Provider:
    from webapp.llm.openai_compat import OpenAICompatibleProvider

    return OpenAICompatibleProvider(
        settings, name="openai_compatible", display_name="OpenAI-compatible server", default_model=model
    )


def _offline(settings: ConnectionSettings, model: str) -> Provider:
    from webapp.llm.offline import OfflineProvider

    return OfflineProvider()


# Listing models through each SDK's `models.list`, with a short timeout and no retries.


def _anthropic_models(client: Any, timeout: float) -> Iterable[str]:
    pages = client.with_options(timeout=timeout, max_retries=0).models.list(limit=1000)
    return (model.id for model in islice(pages, MAX_LISTED_MODELS))


def _openai_style_models(client: Any, timeout: float) -> Iterable[str]:
    pages = client.with_options(timeout=timeout, max_retries=0).models.list()
    return (model.id for model in islice(pages, MAX_LISTED_MODELS))


# OpenAI lists every model it serves, chat or not: GPT and o-series names, less the kinds that cannot chat.
_OPENAI_CHAT = re.compile(r"(gpt-|chatgpt-|o\d)(?!.*(audio|realtime|tts|transcribe|image|search))")


def _openai_chat_models(client: Any, timeout: float) -> Iterable[str]:
    return (name for name in _openai_style_models(client, timeout) if _OPENAI_CHAT.match(name))


def _gemini_models(client: Any, timeout: float) -> Iterable[str]:
    options = {"timeout": int(timeout * 1000), "retry_options": {"attempts": 1}}
    pages = client.models.list(config={"page_size": 1000, "http_options": options})
    # Gemini lists embedding and other models too; only those that generate content can chat.
    return (
        model.name.removeprefix("models/")
        for model in islice(pages, MAX_LISTED_MODELS)
        if model.name and "generateContent" in (model.supported_actions or ())
    )


_SPECS = (
    ProviderSpec(
        name="anthropic",
        display_name="Anthropic",
        env_prefix="ANTHROPIC",
        setup_hint="Claude (Anthropic)",
        sdk_module="anthropic",
        adapter=_anthropic,
        default_model="claude-sonnet-5-5",
        windows=(("claude-haiku-4", 200_000), ("claude-sonnet-4-5", 200_000), ("claude-", 1_000_000)),
        fallback_window=200_000,
        list_models=_anthropic_models,
        prices={
            "claude-sonnet-5-5": _prices(("2026-01-01", "2.00", "10.00")),
            "claude-opus-5-5": _prices(("2026-01-01", "4.00", "20.00")),
            "claude-haiku-5-5": _prices(("2026-01-01", "0.10", "0.50")),
            "claude-fable-5-1": _prices(("2026-01-01", "10.00", "50.00")),
            "claude-sonnet-5": _prices(("2026-01-01", "2.00", "10.00")),
            "claude-opus-5": _prices(("2026-01-01", "5.00", "25.00")),
            "claude-opus-4-8": _prices(("2026-01-01", "5.00", "25.00")),
            "claude-haiku-4-5": _prices(("2025-10-01", "1.00", "5.00")),
        },
    ),
    ProviderSpec(
        name="openai",
        display_name="OpenAI",
        env_prefix="OPENAI",
        setup_hint="OpenAI",
        default_base_url="https://api.openai.com/v1",
        sdk_module="openai",
        adapter=_openai,
        default_model="gpt-6.1-sol",
        # GPT-6 prompts above 272k tokens are billed at a higher rate; stay below it.
        windows=(("gpt-6", 272_000), ("gpt-5", 400_000), ("gpt-4.1", 1_047_576)),
        fallback_window=128_000,
        list_models=_openai_chat_models,
        prices={
            "gpt-6.1-sol": _prices(("2026-01-01", "2.00", "10.00")),
            "gpt-6-sol": _prices(("2026-01-01", "2.00", "10.00")),
            "gpt-6-luna": _prices(("2026-01-01", "0.10", "0.50")),
            "gpt-5.6-sol": _prices(("2026-01-01", "5.00", "30.00")),
            "gpt-5.6-terra": _prices(("2026-01-01", "2.50", "15.00")),
            "gpt-5.6-luna": _prices(("2026-01-01", "1.00", "6.00")),
            "gpt-5.5": _prices(("2026-01-01", "5.00", "30.00")),
            "gpt-5.4": _prices(("2026-01-01", "2.50", "15.00")),
            "gpt-5": _prices(("2025-08-01", "1.25", "10.00")),
            "gpt-5-mini": _prices(("2025-08-01", "0.25", "2.00")),
        },
    ),
    ProviderSpec(
        name="gemini",
        display_name="Gemini",
        env_prefix="GEMINI",
        setup_hint="Gemini (Google)",
        sdk_module="google.genai",
        adapter=_gemini,
        default_model="gemini-3.8-flash",
        windows=(("gemini-", 1_048_576),),
        fallback_window=1_048_576,
        list_models=_gemini_models,
        prices={
            "gemini-3.8-flash": _prices(("2026-01-01", "0.75", "3.75"), ("2027-01-01", "1.50", "7.50")),
            "gemini-3.5-flash": _prices(("2026-01-01", "1.50", "9.00")),
            "gemini-3.5-flash-lite": _prices(("2026-01-01", "0.30", "2.50")),
            "gemini-3.1-pro-preview": _prices(("2026-01-01", "2.00", "12.00")),
            "gemini-2.5-pro": _prices(("2025-06-01", "1.25", "10.00")),
            "gemini-2.5-flash": _prices(("2025-06-01", "0.30", "2.50")),
        },
    ),
    ProviderSpec(
        name="deepseek",
        display_name="DeepSeek",
        env_prefix="DEEPSEEK",
        setup_hint="DeepSeek",
        default_base_url="https://api.deepseek.com",
        sdk_module="openai",
        adapter=_deepseek,
        # deepseek-chat and deepseek-reasoner stopped working on 2026-07-24.
        default_model="deepseek-v4-flash",
        windows=(("deepseek-", 128_000),),
        fallback_window=128_000,
        list_models=_openai_style_models,
        # At DeepSeek's higher, peak-hour rate.
        prices={
            "deepseek-v4-flash": _prices(("2026-04-24", "0.30", "1.20")),
            "deepseek-v4-pro": _prices(("2026-04-24", "1.32", "3.96")),
        },
    ),
    ProviderSpec(
        name="openai_compatible",
        display_name="OpenAI-compatible server",
        env_prefix="OPENAI_COMPATIBLE",
        enabled_by="BASE_URL",
        settings=("BASE_URL", "MODEL", "API_KEY", "CONTEXT_WINDOW"),
        setup_hint="a model on your own machine, such as Ollama "
        "(`http://localhost:11434/v1`, with `OPENAI_COMPATIBLE_MODEL` naming the model)",
        sdk_module="openai",
        adapter=_openai_compatible,
        default_model="llama3.2",
        # Local servers often run with a small context (Ollama's default is a few thousand).
        fallback_window=8_192,
        list_models=_openai_style_models,
        # It may be local (free) or a paid service: its models are priced only if listed here.
    ),
    ProviderSpec(
        name="offline",
        display_name="Offline",
        settings=(),
        adapter=_offline,
        default_model="offline",
        fallback_window=32_000,
        free=True,
    ),
)

# Providers in the order the app offers them; offline is always last.
SPECS: dict[str, ProviderSpec] = {spec.name: spec for spec in _SPECS}
PROVIDER_NAMES: tuple[str, ...] = tuple(SPECS)


def display_name(name: str | None) -> str:
    """A provider's display name, for stored names too (a provider may have been unconfigured since)."""
    spec = SPECS.get(name or "")
    return spec.display_name if spec else (name or "")


def key_setting_of(display: str) -> str | None:
    """The setting that holds the key of the provider shown as `display`."""
    return next((s.key_setting for s in _SPECS if s.display_name == display and s.env_prefix), None)


def setting_names() -> list[str]:
    """Every provider setting, as environment variable names."""
    return [spec.setting(suffix) for spec in _SPECS for suffix in spec.settings]
