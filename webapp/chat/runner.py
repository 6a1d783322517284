"""Runs replies off the request, in a bounded pool of threads in the web process."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from ..extensions import db
from .broker import Broker, BrokerUnavailable
from .checkpoints import CheckpointWriter
from .reply import Engine, generate_reply
from .stops import StopWatcher

log = logging.getLogger(__name__)


class ReplyRunner:
    """Owns the worker threads and the process's background writers.

    Which replies are alive is not kept here but in the database (each reply's lease), so that
    every process sees the same thing.
    """

    def __init__(self, app: Flask, broker: Broker, workers: int) -> None:
        self._app = app
        self._broker = broker
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reply")
        with app.app_context():
            engine = db.engine
        self._checkpoints = CheckpointWriter(engine)
        self._stops = StopWatcher(broker, engine)
        self._engine = Engine(
            registry=app.extensions["llm"],
            broker=broker,
            checkpoints=self._checkpoints,
            stops=self._stops,
            database=engine,
            patience=float(app.config["LLM_READ_TIMEOUT"]),
            title_delay=float(app.config["CHAT_TITLE_DELAY"]),
        )

    def submit(self, message_id: str, *, continuing: bool = False) -> None:
        try:
            self._broker.open(message_id)
        except BrokerUnavailable:
            log.info("reply starts without the broker", extra={"message_id": message_id})
        self._pool.submit(self._run, message_id, continuing)

    def _run(self, message_id: str, continuing: bool) -> None:
        try:
            with self._app.app_context():
                try:
                    generate_reply(message_id, self._engine, continuing=continuing)
                finally:
                    db.session.remove()
        except Exception:
            log.exception("reply runner crashed", extra={"message_id": message_id})

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=not wait)
        self._stops.close()
        self._checkpoints.close()
