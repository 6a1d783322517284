"""A scripted streaming HTTP server on 127.0.0.1, the base of every fake provider."""

from __future__ import annotations

import itertools
import json
import re
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.script import ErrorReply, Scripted, StreamReply

# A pause between the pieces of one event, so they leave as separate TCP segments.
_PIECE_PAUSE = 0.0005


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Rendered:
    """A stream reply in wire form, split so that cuts can be applied.

    `content` may be a generator, so that a long reply starts flowing before
    all of it is rendered.
    """

    preamble: list[bytes] = field(default_factory=list)
    content: Iterable[bytes] = ()
    ending: list[bytes] = field(default_factory=list)


# Text goes out as UTF-8; a lone surrogate, which has no UTF-8 form, goes out as the JSON escape
# a provider would send (`\\ud800`), since it can only stand inside a JSON string.
WIRE_ENCODING = ("utf-8", "backslashreplace")


class FakeServer:
    """Serve scripted replies, one per request, and record every request.

    Subclasses say which paths they answer and how a neutral reply looks in
    their provider's wire protocol. A GET of the provider's model-listing path
    answers with `models` (or `models_failure`), takes no scripted reply, and is
    recorded in `model_requests`, not in `requests`.
    """

    routes: tuple[str, ...] = ()
    models_route = ""
    stream_content_type = "text/event-stream"

    def __init__(self, models: tuple[str, ...] = ("fake-model-large", "fake-model-small")) -> None:
        self.requests: list[RecordedRequest] = []
        self.model_requests: list[RecordedRequest] = []
        self.models = models
        self.models_failure: ErrorReply | None = None
        self.models_delay = 0.0
        self._replies: deque[Scripted] = deque()
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- public API -------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "use the fake as a context manager"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, *replies: Scripted) -> None:
        """Queue replies; each request takes the next one."""
        with self._lock:
            self._replies.extend(replies)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._replies)

    def discard(self) -> int:
        """Drop the queued replies nobody asked for; return how many there were."""
        with self._lock:
            left = len(self._replies)
            self._replies.clear()
            return left

    def __enter__(self) -> FakeServer:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- for subclasses ---------------------------------------------------

    def render(self, reply: StreamReply, request: RecordedRequest) -> Rendered:
        raise NotImplementedError

    def render_stream_error(self, reply: StreamReply) -> bytes:
        raise NotImplementedError

    def error_body(self, reply: ErrorReply) -> dict[str, Any]:
        raise NotImplementedError

    def models_page(self, request: RecordedRequest) -> dict[str, Any]:
        """One page of `models` in the provider's listing format, as the request's paging asks."""
        raise NotImplementedError

    # -- serving ----------------------------------------------------------

    def _answer_listing(self, handler: _Handler, request: RecordedRequest) -> None:
        time.sleep(self.models_delay)
        if not self.models_route or not re.fullmatch(self.models_route, request.path):
            _send_json(handler, 404, {"error": f"no route for {request.path}"})
        elif self.models_failure is not None:
            failure = self.models_failure
            _send_json(handler, failure.status, self.error_body(failure), failure.headers)
        else:
            _send_json(handler, 200, self.models_page(request))

    def _next_reply(self) -> Scripted | None:
        with self._lock:
            return self._replies.popleft() if self._replies else None

    def _answer(self, handler: _Handler, request: RecordedRequest) -> None:
        if not any(re.fullmatch(route, request.path) for route in self.routes):
            _send_json(handler, 404, {"error": f"no route for {request.path}"})
            return
        reply = self._next_reply()
        if reply is None:
            _send_json(handler, 500, {"error": "the fake has no scripted reply left"})
        elif isinstance(reply, ErrorReply):
            _send_json(handler, reply.status, self.error_body(reply), reply.headers)
        else:
            self._stream(handler, reply, request)

    def _stream(self, handler: _Handler, reply: StreamReply, request: RecordedRequest) -> None:
        time.sleep(reply.headers_delay)
        handler.send_response(200)
        handler.send_header("Content-Type", self.stream_content_type)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.send_header("Cache-Control", "no-cache")
        handler.end_headers()
        handler.wfile.flush()
        time.sleep(reply.first_byte_delay)
        for index, event in enumerate(self._events(reply, request)):
            if index and reply.delay:
                time.sleep(reply.delay)
            _write_event(handler, event, reply.wire_chunk_bytes)
        if reply.ending == "break":
            _break_body(handler)
        else:
            handler.wfile.write(b"0\r\n\r\n")

    def _events(self, reply: StreamReply, request: RecordedRequest) -> Iterator[bytes]:
        rendered = self.render(reply, request)
        yield from rendered.preamble
        content = _pausing(rendered.content, reply.pause_after, reply.pause)
        if reply.error_after is not None:
            yield from itertools.islice(content, reply.error_after)
            yield self.render_stream_error(reply)
        elif reply.ending != "complete":
            yield from itertools.islice(content, reply.cut_after)
        else:
            yield from content
            yield from rendered.ending


def _pausing(events: Iterable[bytes], after: int | None, seconds: float) -> Iterator[bytes]:
    for index, event in enumerate(events):
        if index == after:
            time.sleep(seconds)
        yield event


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # The stdlib's backlog of 5 drops connections when many replies start at once.
    request_queue_size = 256
    fake: FakeServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hang up mid-reply on purpose in these tests (timeouts, cuts).
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        fake = self.server.fake  # type: ignore[attr-defined]
        request = self._recorded("POST")
        with fake._lock:
            fake.requests.append(request)
        self._serve(fake._answer, request)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        fake = self.server.fake  # type: ignore[attr-defined]
        request = self._recorded("GET")
        with fake._lock:
            fake.model_requests.append(request)
        self._serve(fake._answer_listing, request)

    def _recorded(self, method: str) -> RecordedRequest:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = urlsplit(self.path)
        return RecordedRequest(
            method=method,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )

    def _serve(self, answer: Any, request: RecordedRequest) -> None:
        try:
            answer(self, request)
        except OSError:
            # The client went away (a timeout or a closed stream); nothing to tell it.
            self.close_connection = True


def _send_json(handler: _Handler, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


def _write_event(handler: _Handler, event: bytes, piece_size: int | None) -> None:
    if not piece_size:
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
        return
    for start in range(0, len(event), piece_size):
        piece = event[start : start + piece_size]
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        time.sleep(_PIECE_PAUSE)


def _break_body(handler: _Handler) -> None:
    # Promise a chunk, send part of it, and hang up: a connection lost mid-body.
    handler.wfile.write(b"400\r\npartial")
    handler.close_connection = True
    handler.connection.shutdown(socket.SHUT_RDWR)
