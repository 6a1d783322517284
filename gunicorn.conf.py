"""Production server settings (`gunicorn --config gunicorn.conf.py webapp.wsgi:app`)."""

import os
import sys

# One process by default: the in-memory reply broker lives in it. Set REDIS_URL before
# raising WEB_WORKERS, so that any process can serve any reply's stream.
workers = int(os.environ.get("WEB_WORKERS", "1"))
if workers > 1 and not os.environ.get("REDIS_URL"):
    # The rule of webapp.config.check, applied before any process starts (importing the app
    # here would load it into the master process too).
    sys.exit(
        f"BA Assistant will not start: WEB_WORKERS is {workers} but REDIS_URL is not set. Several "
        "processes share replies' streams through Redis: set REDIS_URL, or run one process (WEB_WORKERS=1)."
    )
# gevent: each request, open reply stream and reply runner is a greenlet, so an open stream costs
# a few kilobytes, not a thread (README, "Serving model"). The worker patches the standard library
# before it loads the app; psycopg, redis-py and the SDKs' HTTP client then wait cooperatively.
worker_class = "gevent"
# Requests and open streams one process holds at once.
worker_connections = int(os.environ.get("WEB_CONNECTIONS", "4000"))
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = None
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Several instances may run side by side (tests, benchmarks); nothing here uses the control socket.
control_socket_disable = True


def _limit_malloc_arenas(count: int = 2) -> None:
    # glibc gives each thread that allocates its own arena (up to 8 per core), and idle arenas
    # keep their memory: gevent resolves host names in a pool of threads. Forked workers inherit it.
    import ctypes
    import ctypes.util

    libc_name = ctypes.util.find_library("c")
    mallopt = getattr(ctypes.CDLL(libc_name), "mallopt", None) if libc_name else None
    if mallopt is not None:  # glibc only
        M_ARENA_MAX = -8
        mallopt(M_ARENA_MAX, count)
        # Uploaded files are held whole while they are stored: from 1 MB up, memory comes straight
        # from the kernel and goes back to it when freed, instead of staying in the heap.
        M_MMAP_THRESHOLD = -3
        mallopt(M_MMAP_THRESHOLD, 1024 * 1024)


_limit_malloc_arenas(int(os.environ.get("MALLOC_ARENAS", "2")))
