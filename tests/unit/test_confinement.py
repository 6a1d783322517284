"""A reading process confines itself before it reads a byte: its own process group, the lowest
priority, and caps on its memory and processor time."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Run in a process of its own, as a reading process would be.
CONFINE = textwrap.dedent(
    """
    import os
    import resource

    from webapp.imports.reading import confine
    from webapp.imports.settings import ImportSettings

    confine(ImportSettings("sqlite://", memory_mb=512, timeout_s=30))
    print(
        os.getpgrp() == os.getpid(),
        os.sched_getscheduler(0) == os.SCHED_IDLE,
        os.getpriority(os.PRIO_PROCESS, 0),
        resource.getrlimit(resource.RLIMIT_AS)[0] // (1024 * 1024),
        resource.getrlimit(resource.RLIMIT_CPU)[0],
    )
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux scheduling")
def test_a_reading_process_gives_way_to_every_other_and_caps_itself() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CONFINE], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "19", "512", "35"]
