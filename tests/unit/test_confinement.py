"""A reading process confines itself before it reads a byte: its own process group, the lowest
priority, and caps on its memory and processor time."""

from __future__ import annotations

import os
import resource
import sys

import pytest

from webapp.imports.reading import confine
from webapp.imports.settings import ImportSettings


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux scheduling")
def test_a_reading_process_gives_way_to_every_other_and_caps_itself() -> None:
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (reports through the pipe)
        try:
            confine(ImportSettings("sqlite://", memory_mb=512, timeout_s=30))
            report = (
                os.getpgrp() == os.getpid(),
                os.sched_getscheduler(0) == os.SCHED_IDLE,
                os.getpriority(os.PRIO_PROCESS, 0),
                resource.getrlimit(resource.RLIMIT_AS)[0] // (1024 * 1024),
                resource.getrlimit(resource.RLIMIT_CPU)[0],
            )
            os.write(write, repr(report).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        report = pipe.read()
    os.waitpid(child, 0)
    assert report == repr((True, True, 19, 512, 35))
