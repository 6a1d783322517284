"""Long work inside one request takes turns with the others when gevent serves the process.

Under gevent every request of a process shares one thread: whatever runs without giving way
(a wait inside a C library, a 20 MB upload read from a socket that always has data) holds back
every other request and stream. Outside gevent (tests, the command line, a threaded server)
these helpers do the work right away, as plain calls.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

# A request body is read from the socket in pieces of this many bytes (gunicorn's largest read),
# taking a turn with the process's other requests after each.
PIECE_BYTES = 1024 * 1024

_writers_lock = threading.Lock()
_writers: Any = None


def gevent_serves() -> bool:
    """Whether gevent serves this process (its standard library patched): one thread for every request."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("threading")


def off_the_loop(call: Callable[..., T], *args: Any, holds_lock: bool = False) -> T:
    """Run `call` in a native thread under gevent (the caller's greenlet waits for it), else right here.

    For calls that spend their time in C with the interpreter let go (SQLite waiting for its
    lock, writing a file's bytes). `holds_lock`: the call runs while its transaction holds
    SQLite's write lock; it gets threads of its own, so that it never waits behind calls that
    wait for that very lock.
    """
    if not gevent_serves():
        return call(*args)
    import gevent

    if not holds_lock:
        return gevent.get_hub().threadpool.apply(call, args)
    return _writer_pool().apply(call, args)


def _writer_pool() -> Any:
    global _writers
    with _writers_lock:
        if _writers is None:
            from gevent.threadpool import ThreadPool

            # SQLite has one writer at a time: a process rarely has more than one such call.
            _writers = ThreadPool(2)
        return _writers


class _TurnTakingInput:
    """wsgi.input read from the socket a large piece at a time, giving way to the other requests
    after each piece.

    Form parsers ask for 64 KB at a time; gunicorn answers each such read by copying all it has
    buffered (up to 1 MB), which made a 20 MB upload cost hundreds of milliseconds of copying.
    Taking PIECE_BYTES at once and handing it out from here copies each byte once.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._buffer = bytearray()

    def _fill(self, wanted: int) -> bool:
        """Read one more piece into the buffer; False at the end of the body."""
        piece = self._stream.read(max(wanted, PIECE_BYTES))
        if not piece:
            return False
        self._buffer += piece
        time.sleep(0)  # under gevent: the other greenlets run, then this one goes on
        return True

    def _take(self, size: int) -> bytes:
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            while self._fill(PIECE_BYTES):
                pass
            return self._take(len(self._buffer))
        while len(self._buffer) < size and self._fill(size - len(self._buffer)):
            pass
        return self._take(size)

    def readline(self, size: int | None = -1) -> bytes:
        limit = size if size is not None and size >= 0 else None
        while (end := self._buffer.find(b"\n")) < 0 and (limit is None or len(self._buffer) < limit):
            if not self._fill(PIECE_BYTES):
                break
        length = len(self._buffer) if end < 0 else end + 1
        return self._take(length if limit is None else min(length, limit))

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")

    def __getattr__(self, name: str) -> Any:
        if name == "readinto":  # readers fall back to read()
            raise AttributeError(name)
        return getattr(self._stream, name)


class UploadSpool:
    """An uploaded file as the form parser receives it: in memory while small, then in a temporary
    file whose writes happen off the loop a piece at a time.

    A write to disk can wait on the disk (the kernel holds back writers while much is unwritten,
    as during an import); on the loop, that wait stopped every other request of the process.
    """

    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=PIECE_BYTES, mode="w+b")
        self._pending = bytearray()

    def write(self, data: bytes) -> int:
        self._pending += data
        if len(self._pending) >= PIECE_BYTES:
            self._write_pending()
        return len(data)

    def _write_pending(self) -> None:
        if self._pending:
            data = bytes(self._pending)
            self._pending.clear()
            off_the_loop(self._file.write, data)

    def __getattr__(self, name: str) -> Any:
        # Anything else (read, seek, close…) sees the whole file.
        self._write_pending()
        return getattr(self._file, name)


class TakeTurnsReadingBodies:
    """WSGI middleware: request bodies (uploads) are read in turns with the process's other requests."""

    def __init__(self, app: Any) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if gevent_serves() and environ.get("CONTENT_LENGTH", "0") not in ("", "0"):
            environ["wsgi.input"] = _TurnTakingInput(environ["wsgi.input"])
        return self._app(environ, start_response)
