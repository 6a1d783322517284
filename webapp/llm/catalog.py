"""The models each configured provider offers, listed through its SDK and kept for a while."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from webapp.llm.base import Provider
from webapp.llm.registry import ProviderRegistry
from webapp.llm.specs import MAX_LISTED_MODELS, MODEL_NAME_MAX

log = logging.getLogger(__name__)

# Seconds: how long one listing may take, how long a list is kept, and how soon a failed
# listing is tried again (until then the Model field simply offers no suggestions).
LIST_TIMEOUT = 10.0
KEEP_FOR = 600.0
RETRY_AFTER = 60.0


@dataclass(frozen=True, slots=True)
class ModelList:
    """A provider's models, its default one first; `failed` when the provider could not say."""

    default: str
    names: tuple[str, ...]
    failed: bool = False


class ModelCatalog:
    """Lists each provider's models at most once per KEEP_FOR seconds, one listing at a time."""

    def __init__(
        self, registry: ProviderRegistry, *, timeout: float = LIST_TIMEOUT, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._registry = registry
        self._timeout = timeout
        self._clock = clock
        self._kept: dict[str, tuple[float, ModelList]] = {}
        self._locks = {info.name: threading.Lock() for info in registry.available()}

    def models(self, name: str) -> ModelList:
        """The provider's models; raises UnknownProvider for one that is not configured."""
        provider = self._registry.get(name)
        kept = self._kept_list(name)
        if kept is not None:
            return kept
        with self._locks[name]:
            # Another request may have listed them while this one waited.
            kept = self._kept_list(name)
            if kept is None:
                kept, keep_for = _list(name, provider, self._timeout)
                self._kept[name] = (self._clock() + keep_for, kept)
            return kept

    def _kept_list(self, name: str) -> ModelList | None:
        until, listing = self._kept.get(name, (0.0, None))
        return listing if listing is not None and self._clock() < until else None


def _list(name: str, provider: Provider, timeout: float) -> tuple[ModelList, float]:
    """The provider's list and how long to keep it."""
    default, deadline = provider.default_model, time.monotonic() + timeout
    try:
        names = _clean(provider.list_models(timeout=timeout), default, deadline)
    except Exception as error:  # noqa: BLE001 - whatever the SDK or server does wrong, the field still takes a name
        log.warning("listing the models of %s failed: %s", name, error)
        return ModelList(default, (default,), failed=True), RETRY_AFTER
    return ModelList(default, names), KEEP_FOR


def _clean(names: Iterable[object], default: str, deadline: float) -> tuple[str, ...]:
    """Distinct, plausible model names, the default first, within the time and count limits."""
    seen = {default: None}
    for name in names:
        if isinstance(name, str) and 0 < len(name) <= MODEL_NAME_MAX and name.isprintable():
            seen.setdefault(name, None)
        if len(seen) > MAX_LISTED_MODELS or time.monotonic() > deadline:
            break
    return tuple(seen)
