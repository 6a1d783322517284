"""Runs replies off the request, in a bounded pool of threads in the web process."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from ..extensions import db
from .broker import Broker
from .checkpoints import CheckpointWriter
from .reply import generate_reply
from .stops import StopWatcher

log = logging.getLogger(__name__)


class ReplyRunner:
    """Owns the worker threads and knows which replies this process is producing."""

    def __init__(self, app: Flask, broker: Broker, workers: int) -> None:
        self._app = app
        self._broker = broker
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reply")
        with app.app_context():
            self._checkpoints = CheckpointWriter(db.engine)
            self._stops = StopWatcher(broker, db.engine)
        self._active: set[str] = set()
        self._lock = threading.Lock()

    def submit(self, message_id: str, *, continuing: bool = False) -> None:
        with self._lock:
            self._active.add(message_id)
        self._broker.open(message_id)
        self._pool.submit(self._run, message_id, continuing)

    def is_running(self, message_id: str) -> bool:
        with self._lock:
            return message_id in self._active

    def _run(self, message_id: str, continuing: bool) -> None:
        try:
            with self._app.app_context():
                try:
                    generate_reply(message_id, registry=self._app.extensions["llm"], broker=self._broker,
                                   checkpoints=self._checkpoints, stops=self._stops, continuing=continuing)
                finally:
                    db.session.remove()
        except Exception:
            log.exception("reply runner crashed", extra={"message_id": message_id})
        finally:
            with self._lock:
                self._active.discard(message_id)

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=not wait)
        self._stops.close()
        self._checkpoints.close()
