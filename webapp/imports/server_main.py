"""Loaded by the reading processes' fork server only: the parent's main script, once for all of them.

A process forked from the server finds its main module already loaded and starts at once, instead
of running the script (`gunicorn`) or module (`python -m bench.search`) again before reading each
file: a second of imports for some of them.
"""

import multiprocessing.spawn
import os
import runpy
import sys
import types

from .sandbox import MAIN_NAME_VARIABLE, MAIN_PATH_VARIABLE


def _import_main_module(name: str) -> None:
    # As multiprocessing does in a process started for a `python -m` parent: a new process skips
    # running the module again when `__main__.__spec__` already names it.
    if name == "__main__" or name.endswith(".__main__"):
        return  # a package's __main__ (python -m flask) is never run again by multiprocessing
    main = types.ModuleType("__mp_main__")
    main.__dict__.update(runpy.run_module(name, run_name="__mp_main__", alter_sys=True))
    sys.modules["__main__"] = sys.modules["__mp_main__"] = main


if path := os.environ.get(MAIN_PATH_VARIABLE):
    multiprocessing.spawn.import_main_path(path)
elif name := os.environ.get(MAIN_NAME_VARIABLE):
    _import_main_module(name)
