"""gunicorn.conf.py with the threaded worker it used before gevent, for `bench/load.py --config`."""

import runpy
from pathlib import Path

globals().update(
    {
        k: v
        for k, v in runpy.run_path(str(Path(__file__).parent.parent / "gunicorn.conf.py")).items()
        if not k.startswith("__")
    }
)
worker_class = "gthread"
# Every open reply stream holds one of these for its lifetime.
threads = 128
