"""How an adapter reaches its provider, and the one SDK client it keeps."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from webapp.llm.specs import SPECS


class Closable(Protocol):
    def close(self) -> None: ...


T = TypeVar("T", bound=Closable)


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """Where and how to call one provider.

    `max_retries` is handed to the SDK, which only retries before the first
    byte of a reply; adapters never retry on their own. `context_window`, when
    set, is the model's window in tokens (a local server's is whatever it runs with).
    """

    api_key: str
    base_url: str | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    max_retries: int = 2
    context_window: int | None = None


class LazyClient(Generic[T]):
    """Build an SDK client on first use and share it between threads.

    SDK clients hold a connection pool, so one per provider configuration is
    both cheaper and kinder to the provider than one per reply.
    """

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._client: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        client = self._client
        if client is not None:
            return client
        with self._lock:
            if self._client is None:
                self._client = self._build()
            return self._client

    def close(self) -> None:
        """Close the client's connections; the next `get` builds a fresh one."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()


class SDKProvider(Generic[T]):
    """What every SDK-backed adapter shares: its settings, one lazily built client, its spec's model facts."""

    name: str
    display_name: str

    def __init__(self, settings: ConnectionSettings, *, default_model: str) -> None:
        self.default_model = default_model
        self._settings = settings
        self._client: LazyClient[T] = LazyClient(self._build_client)

    @property
    def client(self) -> T:
        return self._client.get()

    def close(self) -> None:
        self._client.close()

    def context_window(self, model: str | None) -> int:
        return self._settings.context_window or SPECS[self.name].context_window(model or self.default_model)

    def list_models(self, *, timeout: float) -> Iterable[str]:
        """The names of the models the provider offers, as its SDK lists them."""
        lister = SPECS[self.name].list_models
        return lister(self.client, timeout) if lister else [self.default_model]

    def _build_client(self) -> T:
        raise NotImplementedError
