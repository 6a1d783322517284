"""The app as the web server loads it (`gunicorn "webapp.wsgi:app"`).

No migration tooling, and what it loads at start kept out of the garbage collector's full passes.
"""

import gc
import threading

from . import create_app

app = create_app(migrations=False)
# Imports waiting since before a restart are taken up at once, not at the first request.
app.extensions["imports"].start()


def _freeze() -> None:
    # What the process loads at start (the app, the providers' SDKs) lives as long as it does.
    # Left to the cyclic collector, each of its full passes walks all of it: about 50 ms with
    # the SDKs loaded, a pause for every reply in flight. Frozen, a pass walks only the rest.
    # Collect first, so that no garbage of the start is frozen with it.
    gc.collect()
    gc.freeze()


def _freeze_when_loaded(preload: threading.Thread) -> None:
    preload.join()
    _freeze()


_freeze()
threading.Thread(
    target=_freeze_when_loaded, args=(app.extensions["llm.preload"],), name="gc-freeze", daemon=True
).start()
