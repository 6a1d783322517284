"""One blocking Redis read per process for every reply its streams follow.

A stream that asked Redis for its own reply's events would make one XREAD per delta per open
tab: ten thousand a second for five hundred tabs at 20 tokens/s, each a round trip that costs
the process, and Redis, more than the delta itself. Here one background loop reads every
followed reply's new events at once (XREAD over all their keys) and hands them to the streams
of this process, which wait on the reply's local copy. A stream's first read fetches what came
before it directly, so reconnecting tabs get their backlog at once.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from .broker import StreamEvent

log = logging.getLogger(__name__)

# The loop's XREAD waits this long at most; a new follower wakes it at once.
BLOCK_MS = 5000
# A reply no stream of this process has read for this long is no longer followed.
IDLE_SECONDS = 30.0
# After Redis failed, the loop waits this long before trying again.
RETRY_SECONDS = 1.0


class Failed(Exception):
    """Redis could not be read."""


class _Follower:
    """The events of one reply that this process has read, from `after` (its first reader's place) on."""

    __slots__ = ("start", "seqs", "events", "last", "changed", "read_at", "failed")

    def __init__(self, backlog: list[StreamEvent], after: int) -> None:
        self.start = after
        self.events: list[StreamEvent] = list(backlog)
        self.seqs = [event.seq for event in backlog]
        self.last = backlog[-1].seq if backlog else after
        self.changed = threading.Condition()
        self.read_at = time.monotonic()
        self.failed = False

    def add(self, events: list[StreamEvent]) -> None:
        with self.changed:
            for event in events:
                if event.seq > self.last:
                    self.events.append(event)
                    self.seqs.append(event.seq)
                    self.last = event.seq
            self.changed.notify_all()

    def fail(self) -> None:
        with self.changed:
            self.failed = True
            self.changed.notify_all()

    def after(self, seq: int) -> list[StreamEvent]:
        return self.events[bisect.bisect_right(self.seqs, seq) :]

    @property
    def ended(self) -> bool:
        return bool(self.events) and self.events[-1].kind == "done"


def parse(response: Any) -> dict[str, list[StreamEvent]]:
    """XREAD's answer as events per key (entry ids are `0-<seq>`)."""
    return {
        key: [StreamEvent(int(entry_id.split("-")[1]), fields["kind"], fields["data"]) for entry_id, fields in entries]
        for key, entries in response or []
    }


class Fanout:
    """Follows replies for the streams of this process, with one XREAD for all of them."""

    def __init__(self, reader: Any, errors: tuple[type[Exception], ...]) -> None:
        self._reader = reader
        self._errors = errors
        self._followers: dict[str, _Follower] = {}
        self._lock = threading.Lock()
        self._wake_key = f"ba:wake:{uuid.uuid4().hex}"
        self._wake_id = "0-0"
        self._thread: threading.Thread | None = None

    def read(self, key: str, after: int, timeout: float, seen: Callable[[], bool]) -> Sequence[StreamEvent] | None:
        """Events of `key` after `after`, waiting up to `timeout`; None if Redis never saw the reply."""
        follower = self._follower(key, after, seen)
        if follower is None:
            return None
        if after < follower.start:  # a tab further back than this process has read
            backlog = self._direct(key, after)
            if backlog:
                return backlog
        with follower.changed:
            follower.read_at = time.monotonic()
            if not follower.after(after) and not follower.failed:
                follower.changed.wait(timeout)
            if follower.failed:
                raise Failed
            return follower.after(after)

    def _follower(self, key: str, after: int, seen: Callable[[], bool]) -> _Follower | None:
        with self._lock:
            follower = self._followers.get(key)
        if follower is not None and not follower.failed:
            return follower
        backlog = self._direct(key, after)
        if not backlog and not seen():
            return None
        follower = _Follower(backlog, after)
        if follower.ended:
            return follower  # nothing more will come: not worth following
        with self._lock:
            follower = self._followers.setdefault(key, follower)
            self._start()
        self._wake()
        return follower

    def _direct(self, key: str, after: int) -> list[StreamEvent]:
        try:
            return parse(self._reader.xread({key: f"0-{after}"})).get(key, [])
        except self._errors as error:
            raise Failed(str(error)) from error

    def forget(self, key: str) -> None:
        """The reply starts again (it is continued): its next reader follows it afresh."""
        with self._lock:
            self._followers.pop(key, None)

    def _wake(self) -> None:
        # The loop may be waiting on the keys it had: a new one joins at once.
        try:
            self._reader.xadd(self._wake_key, {"k": "1"}, maxlen=10, approximate=True)
            self._reader.expire(self._wake_key, 60)
        except self._errors:
            pass  # the loop finds the new key at its next turn

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="reply-fanout", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                self._drop_idle()
                followed = {key: f"0-{f.last}" for key, f in self._followers.items()}
                if not followed:
                    self._thread = None
                    return
            try:
                answer = self._reader.xread({**followed, self._wake_key: self._wake_id}, block=BLOCK_MS)
            except self._errors:
                log.info("reply events cannot be read from Redis; streams follow the saved text")
                self._fail_all()
                time.sleep(RETRY_SECONDS)
                continue
            self._deliver(answer)

    def _deliver(self, answer: Any) -> None:
        for key, entries in answer or []:
            if key == self._wake_key:
                self._wake_id = entries[-1][0]
                continue
            events = parse([(key, entries)])[key]
            with self._lock:
                follower = self._followers.get(key)
            if follower is None:
                continue
            follower.add(events)
            if follower.ended:
                with self._lock:
                    self._followers.pop(key, None)

    def _drop_idle(self) -> None:
        cutoff = time.monotonic() - IDLE_SECONDS
        for key in [k for k, f in self._followers.items() if f.read_at < cutoff]:
            del self._followers[key]

    def _fail_all(self) -> None:
        with self._lock:
            followers, self._followers = list(self._followers.values()), {}
        for follower in followers:
            follower.fail()
