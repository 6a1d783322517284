"""Loaded by the reading processes' fork server only: the parent's main script, once for all of them.

A process forked from the server finds its main module already loaded and starts at once, instead
of running the script again (a second of imports for some scripts) before reading each file.
"""

import multiprocessing.spawn
import os

from .sandbox import MAIN_PATH_VARIABLE

if path := os.environ.get(MAIN_PATH_VARIABLE):
    multiprocessing.spawn.import_main_path(path)
