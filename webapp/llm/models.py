"""What we know about each provider's models: defaults and context windows."""

from __future__ import annotations

DEFAULT_MODELS: dict[str, str] = {
    "anthropic": "claude-sonnet-5-5",
    "gemini": "gemini-3.8-flash",
    "openai": "gpt-6.1-sol",
    # deepseek-chat and deepseek-reasoner stopped working on 2026-07-24.
    "deepseek": "deepseek-v4-flash",
    "openai_compatible": "llama3.2",
    "offline": "offline",
}

# (model name prefix, context window in tokens); the first match wins.
_WINDOWS: dict[str, tuple[tuple[str, int], ...]] = {
    "anthropic": (
        ("claude-haiku-4", 200_000),
        ("claude-sonnet-4-5", 200_000),
        ("claude-", 1_000_000),
    ),
    "gemini": (("gemini-", 1_048_576),),
    # GPT-6 prompts above 272k tokens are billed at a higher rate; stay below it.
    "openai": (
        ("gpt-6", 272_000),
        ("gpt-5", 400_000),
        ("gpt-4.1", 1_047_576),
    ),
    "deepseek": (("deepseek-", 128_000),),
}

_FALLBACK_WINDOWS: dict[str, int] = {
    "anthropic": 200_000,
    "gemini": 1_048_576,
    "openai": 128_000,
    "deepseek": 128_000,
    # Local servers often run with a small context (Ollama's default is a few thousand).
    "openai_compatible": 8_192,
    "offline": 32_000,
}


def context_window(provider: str, model: str) -> int:
    """Return the token budget of `model`, or a cautious default for unknown models."""
    for prefix, tokens in _WINDOWS.get(provider, ()):
        if model.startswith(prefix):
            return tokens
    return _FALLBACK_WINDOWS.get(provider, 8_192)
