"""The app served on a loopback port in a process of its own, for tests that kill a server and start another.

    python -m tests.live_app DATABASE_URL PORT '{"IMPORT_LEASE_S": 2}'

Prints "ready" once it listens; serves until killed.
"""

from __future__ import annotations

import json
import sys

from werkzeug.serving import make_server

from tests.conftest import make_app


def main() -> None:
    database_url, port, overrides = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    app = make_app(database_url, **overrides)
    app.extensions["imports"].start()  # as webapp.wsgi does: take up waiting imports at once
    server = make_server("127.0.0.1", port, app, threaded=True)
    print("ready", flush=True)  # noqa: T201 - the test that started this process waits for the line
    server.serve_forever()


if __name__ == "__main__":
    main()
