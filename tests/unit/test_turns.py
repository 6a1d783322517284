"""Under gevent, long work in one request takes turns with the others: a SQLite write waiting for
the lock waits alone, SQLite's checkpoints happen in a native thread, and a large request body is
read in turns."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Another connection holds the write lock for half a second while one greenlet writes and another
# counts the loop's turns. The writer must get the lock once it is free, and the loop must not stop.
LOCK_WAIT = textwrap.dedent(
    """
    from gevent import monkey

    monkey.patch_all()

    import sqlite3
    import sys
    import time

    import gevent

    from webapp.database import CooperativeConnection

    path = sys.argv[1]
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("CREATE TABLE t (x INTEGER)")
    # As the app's engine makes them: no wait of SQLite's own (the connection waits off the loop).
    writer = sqlite3.connect(path, factory=CooperativeConnection, check_same_thread=False, timeout=0)

    def write():
        writer.cursor().execute("INSERT INTO t VALUES (1)")
        writer.commit()
        return time.monotonic()

    turns = []

    def count():
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            turns.append(time.monotonic())
            gevent.sleep(0.01)

    holder.execute("BEGIN IMMEDIATE")
    released = time.monotonic() + 0.5
    counting, writing = gevent.spawn(count), gevent.spawn(write)
    gevent.sleep(0.5)
    holder.execute("COMMIT")
    gevent.joinall([counting, writing], timeout=15)
    longest = max(b - a for a, b in zip(turns, turns[1:]))
    print(len(turns), round(longest, 3), writing.value is not None and writing.value >= released - 0.05)
    """
)

# The app's engine writes 8 MB in one transaction, past the 1,000 pages at which SQLite copies its
# log back into the database file; the script says whether the committing connection was to make
# that copy, and whether the file holds the 8 MB within 5 seconds.
CHECKPOINTS = textwrap.dedent(
    """
    import sys

    if sys.argv[2] == "gevent":
        from gevent import monkey

        monkey.patch_all()

    import os
    import time

    import sqlalchemy as sa

    from webapp.config import engine_options
    from webapp.database import sqlite_engine_settings

    path = sys.argv[1]
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url, **engine_options(url))
    sqlite_engine_settings(engine)
    with engine.begin() as connection:
        automatic = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        connection.exec_driver_sql("CREATE TABLE t (x BLOB)")
        for _ in range(2000):
            connection.exec_driver_sql("INSERT INTO t VALUES (randomblob(4000))")
    deadline = time.monotonic() + 5
    while os.path.getsize(path) < 8_000_000 and time.monotonic() < deadline:
        time.sleep(0.05)
    print(automatic, os.path.getsize(path) >= 8_000_000)
    """
)

# A 16 MB body that is always there to read (a fast client on loopback) is read while another
# greenlet counts its turns: it must get one at least every PIECE_BYTES.
BODY_READ = textwrap.dedent(
    """
    from gevent import monkey

    monkey.patch_all()

    import io

    import gevent

    from webapp.turns import PIECE_BYTES, TakeTurnsReadingBodies

    size = 16 * PIECE_BYTES

    def app(environ, start_response):
        stream = environ["wsgi.input"]
        while stream.read(64 * 1024):
            pass
        return []

    turns = []

    def count():
        while True:
            turns.append(1)
            gevent.sleep(0)

    counter = gevent.spawn(count)
    gevent.sleep(0)
    before = len(turns)
    environ = {"CONTENT_LENGTH": str(size), "wsgi.input": io.BytesIO(b"x" * size)}
    TakeTurnsReadingBodies(app)(environ, None)
    print(len(turns) - before)
    counter.kill()
    """
)


def _run(script: str, tmp_path: Path, *args: str) -> str:
    path = tmp_path / "script.py"
    path.write_text(script)
    result = subprocess.run(
        [sys.executable, str(path), *args],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_large_request_body_is_read_in_turns(tmp_path: Path) -> None:
    assert int(_run(BODY_READ, tmp_path)) >= 15


def test_under_gevent_a_native_thread_copies_the_log_into_the_database_file_and_commits_never_do(
    tmp_path: Path,
) -> None:
    assert _run(CHECKPOINTS, tmp_path, str(tmp_path / "gevent.db"), "gevent").split() == ["0", "True"]
    # Served by threads, a commit makes the copy as SQLite does by itself.
    assert _run(CHECKPOINTS, tmp_path, str(tmp_path / "threads.db"), "threads").split() == ["1000", "True"]


def test_a_write_waiting_for_the_lock_leaves_the_loop_running(tmp_path: Path) -> None:
    turns, longest, waited = _run(LOCK_WAIT, tmp_path, str(tmp_path / "lock.db")).split()
    # The counter kept its 10 ms rhythm while the writer waited, and the write went in after the release.
    assert int(turns) >= 25 and float(longest) < 0.1, (turns, longest)
    assert waited == "True"
