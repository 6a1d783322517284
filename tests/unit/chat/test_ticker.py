"""The background ticker: one thread however often it is started, and a failing run is not the last."""

from __future__ import annotations

import logging
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


def test_an_outage_is_tried_less_often_and_logged_once(caplog) -> None:
    caplog.set_level(logging.INFO, logger="webapp.chat.ticker")
    outage = threading.Event()
    outage.set()
    runs: list[float] = []

    def job() -> None:
        runs.append(time.monotonic())
        if outage.is_set():
            raise RuntimeError("the database is away")

    ticker = Ticker(job, interval=0.02, name="test-backoff")
    ticker.start()
    deadline = time.monotonic() + 5
    while len(runs) < 5:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    outage.clear()
    seen = len(runs)
    while len(runs) < seen + 2:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    ticker.close()
    gaps = [b - a for a, b in zip(runs, runs[1:5], strict=False)]
    assert gaps[-1] > 3 * gaps[0]  # 0.04 s doubling to 0.32 s
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("background job failed; retrying") == 1 and "background job recovered" in messages
