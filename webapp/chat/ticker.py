"""A background thread that runs one job a few times a second, from its first use to close()."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Ticker:
    """Runs `job` every `interval` seconds in a daemon thread; a failing run is logged, not fatal."""

    def __init__(self, job: Callable[[], None], *, interval: float, name: str) -> None:
        self._job, self._interval, self._name = job, interval, name
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread, unless it runs already (cheap to call often)."""
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()

    def close(self) -> None:
        """Stop the thread, after the run in progress."""
        self._closed.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._closed.wait(self._interval):
            try:
                self._job()
            except Exception:
                log.exception("background job failed", extra={"job": self._name})
