"""Where import jobs run: a pool started by the app (one machine), or RQ workers (with REDIS_URL).

Either way the database is the line users wait in: jobs are handed to the workers only while
their user has fewer than IMPORT_JOBS_PER_USER running, so one user's hundred files never stand
between another user and the next free reader. A sweeper in each web process takes back jobs
whose process died with its server, and jobs whose queue lost them.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import timedelta
from typing import Any

from flask import Flask, current_app

from ..extensions import db
from ..models import utcnow
from ..turns import off_the_loop
from . import service
from .sandbox import Ending, Sandbox, warm_up
from .settings import ImportSettings

log = logging.getLogger(__name__)

SWEEP_S = 5.0
# RQ: a job queued this long ago that Redis no longer holds was lost (Redis restarted empty).
LOST_AFTER = timedelta(minutes=1)


class ImportQueue:
    """Hands waiting jobs to workers fairly and runs them; the subclasses say where they run."""

    def __init__(self, app: Flask, settings: ImportSettings) -> None:
        self._app = app
        self.settings = settings
        self.sandbox = Sandbox(settings)
        self._started = False
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the sweeper (and the subclass's workers) once: at the first dispatch, or when the server loads."""
        with self._lock:
            if self._started:
                return
            self._started = True
            self._begin()
            self._spawn(self._sweep_forever, "import-sweeper")

    def _begin(self) -> None:
        """Start the subclass's own threads."""

    def _spawn(self, target: Any, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def submit(self, job_id: str) -> None:
        raise NotImplementedError

    def dispatch(self) -> None:
        """Queue the jobs their users have room for, oldest first."""
        self.start()
        for job_id in service.dispatch(db.session, jobs_per_user=self.settings.jobs_per_user):
            self.submit(job_id)

    def execute(self, job_id: str) -> None:
        """Run one queued job to its end in a reading process; then queue what its end made room for."""
        ticket = service.claim(db.session, job_id, lease_s=self.settings.lease_s)
        if ticket is not None:
            ending = self.sandbox.run(db.session, ticket)
            message = self._refusal(ending)
            if message is None and ending == "finished" and service.is_current(db.session, ticket):
                message = "The reader stopped before finishing this file; it may be damaged."
            if message is not None:
                service.refuse(db.session, ticket, message)
            log.info("import ended", extra={"job_id": job_id, "ending": ending})
        if not self._stopping.is_set():
            self.dispatch()

    def _refusal(self, ending: Ending) -> str | None:
        if ending == "out_of_memory":
            return f"This file needs more than {self.settings.memory_label} of memory to read, the most one import may use."
        if ending == "timed_out":
            seconds = f"{self.settings.timeout_s:g}"
            return f"Reading this file took longer than {seconds} s, the most one import may take."
        if ending == "crashed":
            return "The reader stopped unexpectedly on this file; it may be damaged."
        return None

    def _sweep_forever(self) -> None:
        first = True
        while not self._stopping.is_set():
            with self._app.app_context():
                try:
                    if first:
                        self.recover_on_start()
                        first = False
                    self.sweep()
                except Exception:
                    log.exception("import sweep failed")
                finally:
                    db.session.remove()
            self._stopping.wait(SWEEP_S)

    def sweep(self) -> None:
        """Take back jobs whose process died with its server, then queue what there is room for."""
        for ticket in service.take_back_lapsed(db.session, max_attempts=self.settings.max_attempts):
            service.refuse(db.session, ticket, "Reading this file was interrupted by restarts; upload it again.")
        self.recover_lost()
        self.dispatch()

    def recover_lost(self) -> None:
        """Put back in line the queued jobs no worker will see."""

    def recover_on_start(self) -> None:
        """Take up what a stopped process left behind (run once, by the sweeper)."""

    def shutdown(self) -> None:
        """Stop the threads and kill any reading process still running (tests, server exit)."""
        self._stopping.set()
        self.sandbox.stop_all()
        for thread in self._threads:
            thread.join(timeout=10)


class LocalPool(ImportQueue):
    """IMPORT_WORKERS threads in this process, each watching one reading process at a time."""

    def __init__(self, app: Flask, settings: ImportSettings) -> None:
        super().__init__(app, settings)
        self._jobs: queue.Queue[str | None] = queue.Queue()

    def _begin(self) -> None:
        self._spawn(lambda: off_the_loop(warm_up, self.settings.database_url), "import-warm-up")
        for number in range(self.settings.workers):
            self._spawn(self._work, f"import-worker-{number}")

    def recover_on_start(self) -> None:
        # Jobs queued in the memory of a process that has since stopped: back in line.
        service.put_back(db.session, [job_id for job_id, _ in service.queued_jobs(db.session)])

    def submit(self, job_id: str) -> None:
        self._jobs.put(job_id)

    def _work(self) -> None:
        while (job_id := self._jobs.get()) is not None and not self._stopping.is_set():
            with self._app.app_context():
                try:
                    self.execute(job_id)
                except Exception:
                    log.exception("import failed", extra={"job_id": job_id})
                finally:
                    db.session.remove()

    def shutdown(self) -> None:
        self._stopping.set()
        for _ in range(self.settings.workers):
            self._jobs.put(None)
        super().shutdown()


class RedisQueue(ImportQueue):
    """Jobs go through RQ; `flask imports worker` processes run them, on any machine."""

    def __init__(self, app: Flask, settings: ImportSettings, redis_url: str, queue_name: str) -> None:
        super().__init__(app, settings)
        self._redis_url = redis_url
        self._queue_name = queue_name
        self._rq_queue: Any = None

    def _queue(self) -> Any:
        if self._rq_queue is None:
            import redis
            from rq import Queue

            self._rq_queue = Queue(self._queue_name, connection=redis.Redis.from_url(self._redis_url))
        return self._rq_queue

    def submit(self, job_id: str) -> None:
        attempts = service.attempts_of(db.session, job_id)
        self._queue().enqueue(
            run_job,
            job_id,
            job_id=_rq_id(job_id, attempts),
            job_timeout=int(self.settings.timeout_s) + 60,
            result_ttl=0,
            failure_ttl=24 * 3600,
            description=f"import {job_id}",
        )

    def recover_lost(self) -> None:
        from rq.exceptions import NoSuchJobError
        from rq.job import Job, JobStatus

        lost = []
        for job_id, attempts in service.queued_jobs(db.session, older_than=utcnow() - LOST_AFTER):
            try:
                status = Job.fetch(_rq_id(job_id, attempts), connection=self._queue().connection).get_status()
            except NoSuchJobError:
                status = None
            if status in (None, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
                lost.append(job_id)
        service.put_back(db.session, lost)

    def work(self, *, burst: bool = False) -> None:
        """Run jobs from the queue in this process until stopped (or, with `burst`, until it is empty)."""
        from rq import SimpleWorker

        # Each job's reading happens in its own capped process (see sandbox.py), so the worker
        # itself need not fork: SimpleWorker runs the watcher in this process.
        warm_up(self.settings.database_url)
        worker = SimpleWorker([self._queue()], connection=self._queue().connection)
        worker.work(burst=burst, with_scheduler=False)


def _rq_id(job_id: str, attempts: int) -> str:
    return f"import-{job_id}-{attempts}"


def run_job(job_id: str) -> None:
    """The RQ task: run one import in this worker's app."""
    current_app.extensions["imports"].execute(job_id)


def build_queue(app: Flask) -> ImportQueue:
    with app.app_context():
        database_url = db.engine.url.render_as_string(hide_password=False)
    settings = ImportSettings.from_config(app.config, database_url)
    redis_url = app.config["REDIS_URL"]
    if redis_url:
        return RedisQueue(app, settings, redis_url, app.config["IMPORT_QUEUE"])
    return LocalPool(app, settings)
