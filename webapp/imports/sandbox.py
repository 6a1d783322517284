"""One job's reading process: started apart from the caller, watched, and killed at its limits.

The process is forked from a fork server that has the readers loaded, so a job starts in
milliseconds and the caller (a web process, or an RQ worker) never loads them itself. The
process caps its own memory and processor time (see reading.confine); the watcher here enforces
the wall-clock limit, renews the job's lease, and kills the process as soon as its job is deleted.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.spawn as spawn
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.orm import Session

from ..turns import off_the_loop
from . import service
from .settings import ImportSettings

log = logging.getLogger(__name__)

READER_MODULE = "webapp.imports.reading"
SERVER_MAIN_MODULE = "webapp.imports.server_main"
MAIN_PATH_VARIABLE = "BA_ASSISTANT_MAIN_PATH"
MAIN_NAME_VARIABLE = "BA_ASSISTANT_MAIN_MODULE"
DATABASE_VARIABLE = "BA_ASSISTANT_IMPORT_DATABASE"
# Exit status of a reading process that ran out of memory (see reading.main).
EXIT_OUT_OF_MEMORY = 3
# How often the watcher looks at the process and at its job.
POLL_S = 0.25

_start_lock = threading.Lock()
_context: Any = None

Ending = Literal["finished", "out_of_memory", "timed_out", "cancelled", "crashed"]


@dataclass(frozen=True)
class Assignment:
    """What a reading process is given: which attempt to make, and within which limits."""

    ticket: service.Ticket
    settings: ImportSettings


def reading_context(database_url: str) -> Any:
    """The fork server's context, with the readers loaded into the server once.

    The server also meets the database once (see reading.engine_for); a caller with another
    database is served all the same, its processes connecting from scratch.
    """
    global _context
    with _start_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            # Every new process runs the main script or module again (gunicorn's, a benchmark's)
            # before its target unless the server has loaded it; Python 3.11's "__main__" preload
            # never does (the server looks for a key the parent does not send), so the server's
            # first module loads it, from the path or module name left here.
            preparation = spawn.get_preparation_data("reader")
            for key, variable in (
                ("init_main_from_path", MAIN_PATH_VARIABLE),
                ("init_main_from_name", MAIN_NAME_VARIABLE),
            ):
                if preparation.get(key):
                    os.environ[variable] = preparation[key]
                else:  # not one inherited from a parent process that had another main
                    os.environ.pop(variable, None)
            os.environ[DATABASE_VARIABLE] = database_url
            context.set_forkserver_preload([SERVER_MAIN_MODULE, READER_MODULE])
            _context = context
    return _context


def warm_up(database_url: str) -> None:
    """Start the fork server now, so that the first file after a start does not wait while it loads
    the readers' libraries (a second or so)."""
    from multiprocessing import forkserver

    reading_context(database_url)
    forkserver.ensure_running()


def _read(assignment: Assignment) -> None:
    # Runs in the new process; the fork server has already imported the module.
    from . import reading

    reading.main(assignment)


class Sandbox:
    """Runs attempts in reading processes and remembers which are alive, to stop them on shutdown."""

    def __init__(self, settings: ImportSettings) -> None:
        self._settings = settings
        self._alive: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._stopped = False

    def run(self, session: Session, ticket: service.Ticket) -> Ending:
        """Read the attempt's file in its own process; say how that process ended."""
        process = reading_context(self._settings.database_url).Process(
            target=_read,
            args=(Assignment(ticket, self._settings),),
            name=f"import-{ticket.job_id}",
            daemon=True,
        )
        # Starting waits on the fork server (the first time, while it loads the readers' libraries)
        # in a plain blocking read: not on the loop other requests share.
        off_the_loop(process.start)
        with self._lock:
            self._alive[ticket.job_id] = process
        try:
            return self._watch(session, ticket, process)
        finally:
            with self._lock:
                self._alive.pop(ticket.job_id, None)

    def _watch(self, session: Session, ticket: service.Ticket, process: Any) -> Ending:
        started = time.monotonic()
        deadline = started + self._settings.timeout_s
        renew_at = started + self._settings.lease_s / 3
        while True:
            process.join(POLL_S)
            if self._stopped:
                _kill(process)  # the app is stopping: the job's lease lapses and it runs again
                return "cancelled"
            if process.exitcode is not None:
                return _ending(process.exitcode)
            now = time.monotonic()
            if now >= deadline:
                _kill(process)
                return "timed_out"
            if now >= renew_at:
                owned = service.renew(session, ticket, lease_s=self._settings.lease_s)
                renew_at = now + self._settings.lease_s / 3
            else:
                owned = service.is_current(session, ticket)
            if not owned:
                _kill(process)
                return "cancelled"

    def stop_all(self) -> None:
        """Kill every reading process this sandbox started (the app is shutting down)."""
        with self._lock:
            self._stopped = True
            processes = list(self._alive.values())
        for process in processes:
            _kill(process)


def _ending(exitcode: int) -> Ending:
    if exitcode == 0:
        return "finished"
    if exitcode == EXIT_OUT_OF_MEMORY or exitcode == -signal.SIGKILL:
        return "out_of_memory"  # a SIGKILL nobody here sent comes from the kernel's OOM killer
    if exitcode == -signal.SIGABRT:
        return "out_of_memory"  # PDFium aborts when an allocation fails at the memory cap
    if exitcode == -signal.SIGXCPU:
        return "timed_out"
    return "crashed"


def _kill(process: Any) -> None:
    # The reading process leads its own process group: tesseract, if running, goes with it.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    process.join(5)
    if process.is_alive():
        log.error("reading process %s survived SIGKILL", process.pid)
