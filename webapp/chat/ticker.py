"""A background thread that runs one job a few times a second, from its first use to close()."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

# While the job fails (the database is down), it is tried less often, but at least this often.
MAX_BACKOFF_SECONDS = 2.0


class Ticker:
    """Runs `job` every `interval` seconds in a daemon thread.

    A failing run is not fatal: the next runs come further apart (up to MAX_BACKOFF_SECONDS)
    until one succeeds, and one outage is logged once, not at every run.
    """

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
        wait, failing = self._interval, False
        while not self._closed.wait(wait):
            try:
                self._job()
            except Exception:
                if not failing:
                    log.exception("background job failed; retrying", extra={"job": self._name})
                failing, wait = True, min(wait * 2, MAX_BACKOFF_SECONDS)
                continue
            if failing:
                log.info("background job recovered", extra={"job": self._name})
            failing, wait = False, self._interval
