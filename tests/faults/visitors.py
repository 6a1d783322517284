"""What a fault test needs to act as users and providers: a browser-like client, a shaped fake.

A `Visitor` keeps one user's cookies and talks plain HTTP to a running server (in this
process or another); `read_reply` follows a reply's event stream as the page does,
reconnecting after the last event it has when the stream ends without `done`.
"""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPException
from typing import Any
from urllib.parse import urlencode, urlsplit

import sqlalchemy as sa

from ..chat_helpers import SSEEvent, parse_sse
from ..conftest import PASSWORD
from ..fakes import FakeAnthropic, text_reply
from ..fakes.server import RecordedRequest

SHAPED_MODEL = re.compile(r"fault-(\d+)-(\d+)")
_STREAM_TEXT = re.compile(r'class="stream-text"[^>]*>(.*?)</div>', re.S)
_STATUS = re.compile(r'class="message message-assistant status-(\w+)"')
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def shaped_model(chunks: int, delay_ms: int) -> str:
    """A model name that tells the shaped fake how to answer: `chunks` pieces, `delay_ms` apart."""
    return f"fault-{chunks}-{delay_ms}"


def shaped_text(chunks: int) -> str:
    """The text of a shaped reply: five characters a piece."""
    return "".join(f"t{i:03d} " for i in range(chunks))


class ShapedAnthropic(FakeAnthropic):
    """Answers every request in the shape its model name asks for (any number of replies, any order)."""

    def _answer(self, handler: Any, request: RecordedRequest) -> None:
        match = SHAPED_MODEL.fullmatch(str(request.json().get("model", "")))
        if match is None:
            return super()._answer(handler, request)
        chunks, delay_ms = int(match[1]), int(match[2])
        reply = text_reply(shaped_text(chunks), chunks=chunks, delay=delay_ms / 1000, output_tokens=chunks)
        self._stream(handler, reply, request)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    text: str


@dataclass
class Seen:
    """A reply as its reader saw it: the text shown as it streamed, and how it ended."""

    text: str = ""
    done: SSEEvent | None = None
    reconnects: int = 0
    statuses: list[int] = field(default_factory=list)

    @property
    def final_status(self) -> str | None:
        match = _STATUS.search(self.done.data) if self.done else None
        return match[1] if match else None


class Visitor:
    """One user's browser: cookies, and requests as htmx sends them."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.cookies: dict[str, str] = {}
        # The session's CSRF token, once a page has given it (servers run with CSRF on).
        self.csrf = ""
        # Every answer's status, for counting the 500s a fault caused.
        self.statuses: list[int] = []

    def follow(self, other: Visitor) -> None:
        """Be the same signed-in user as `other` (its cookies and token), on this visitor's server."""
        self.cookies, self.csrf = dict(other.cookies), other.csrf

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, *, htmx: bool = False, timeout: float = 30
    ) -> Answer:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), "X-CSRFToken": self.csrf}
        if form is not None and self.csrf:
            form = {**form, "csrf_token": self.csrf}
        body = urlencode(form) if form is not None else None
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if htmx:
            headers.update({"HX-Request": "true", "HX-Target": "messages"})
        connection = HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request(method, path, body, headers)
            response = connection.getresponse()
            text = response.read().decode()
            self.statuses.append(response.status)
            for cookie in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = cookie.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
            return Answer(response.status, dict(response.headers), text)
        finally:
            connection.close()

    def upload(self, path: str, filename: str, data: bytes) -> int:
        """Upload one file through the plain form (multipart, no htmx); the answer's status."""
        boundary = "faultsboundary7d1e"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{filename}"\r\n'
                f"Content-Type: text/csv\r\n\r\n"
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "X-CSRFToken": self.csrf,
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        }
        connection = HTTPConnection(self.host, self.port, timeout=120)
        try:
            connection.request("POST", path, body, headers)
            response = connection.getresponse()
            response.read()
            self.statuses.append(response.status)
            return response.status
        finally:
            connection.close()

    def register(self, email: str) -> None:
        self._take_csrf("/register")
        answer = self.request(
            "POST",
            "/register",
            {"email": email, "display_name": email.split("@")[0], "password": PASSWORD, "confirm": PASSWORD},
        )
        assert answer.status == 303, f"registering answered {answer.status}"
        assert self.login(email).status == 303, "logging in after registering failed"

    def login(self, email: str) -> Answer:
        self._take_csrf("/login")
        return self.request("POST", "/login", {"email": email, "password": PASSWORD})

    def _take_csrf(self, path: str) -> None:
        found = _CSRF.search(self.request("GET", path).text)
        self.csrf = found[1] if found else ""

    def post(self, thread_id: str, text: str) -> tuple[Answer, str | None]:
        """Send a message; the answer, and the id of the reply it started (None if refused)."""
        answer = self.request("POST", f"/threads/{thread_id}/messages", {"content": text}, htmx=True)
        ids = re.findall(r'id="message-([0-9a-f-]{36})"', answer.text) if answer.status == 200 else []
        return answer, ids[-1] if ids else None

    def read_reply(self, reply_id: str, *, timeout: float = 60) -> Seen:
        """Follow the reply's stream to `done` as the page does, reconnecting when it drops."""
        seen, after = Seen(), 0
        deadline = time.monotonic() + timeout
        while seen.done is None and time.monotonic() < deadline:
            try:
                answer = self.request(
                    "GET", f"/messages/{reply_id}/stream?after={after}", timeout=max(1.0, deadline - time.monotonic())
                )
            except (OSError, HTTPException):
                answer = None
            if answer is None or answer.status != 200:
                seen.statuses.append(answer.status if answer else 0)
                seen.reconnects += 1
                time.sleep(1)  # the stream's `retry:`
                continue
            after = _apply(seen, parse_sse(answer.text), after)
            if seen.done is None:
                seen.reconnects += 1
        return seen


def _apply(seen: Seen, events: list[SSEEvent], after: int) -> int:
    for event in events:
        if event.event == "delta":
            seen.text += html.unescape(event.data)
        elif event.event == "replace":
            found = _STREAM_TEXT.search(event.data)
            seen.text = html.unescape(found[1]) if found else seen.text
        elif event.event == "done":
            seen.done = event
        if event.id is not None:
            after = event.id
    return after


def add_thread(database: sa.Engine, user_id: str, model: str) -> str:
    """A named Anthropic chat of `user_id`'s that writes its replies with `model` (no title requests)."""
    from webapp.models import Thread

    thread = {
        "id": _new_id(),
        "user_id": user_id,
        "model_provider": "anthropic",
        "model_name": model,
        "title": "Fault drill",
        "title_locked": True,
        "thread_type": "assistant",
    }
    with database.begin() as connection:
        connection.execute(sa.insert(Thread), thread)
    return thread["id"]


def user_id_of(database: sa.Engine, email: str) -> str:
    from webapp.models import User

    with database.connect() as connection:
        return connection.scalar(sa.select(User.id).where(User.email == email))


def reply_rows(database: sa.Engine, reply_ids: list[str]) -> dict[str, tuple[str, str]]:
    """Each reply's saved status and text."""
    from webapp.models import Message

    with database.connect() as connection:
        rows = connection.execute(
            sa.select(Message.id, Message.status, Message.content).where(Message.id.in_(reply_ids))
        ).all()
    return {row[0]: (row[1], row[2]) for row in rows}


def _new_id() -> str:
    from webapp.models import new_id

    return new_id()
