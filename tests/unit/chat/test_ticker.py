"""The background ticker: one thread however often it is started, and a failing run is not the last."""

from __future__ import annotations

import threading
import time

from webapp.chat.ticker import Ticker


def test_runs_on_in_one_thread_after_a_failure() -> None:
    runs: list[str] = []

    def job() -> None:
        runs.append(threading.current_thread().name)
        if len(runs) == 1:
            raise RuntimeError("the database is away")

    ticker = Ticker(job, interval=0.01, name="test-ticker")
    for _ in range(5):
        ticker.start()
    deadline = time.monotonic() + 5
    while len(runs) < 3:
        assert time.monotonic() < deadline, "the ticker stopped after its failing run"
        time.sleep(0.01)
    ticker.close()
    count = len(runs)
    time.sleep(0.05)
    assert len(runs) == count and set(runs) == {"test-ticker"}
    assert [t.name for t in threading.enumerate()].count("test-ticker") == 0
