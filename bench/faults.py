"""Play the faults a reply must survive, and print one table: faults tried, replies, replies damaged.

Servers that a fault stops or kills are the run's own (a PostgreSQL made with initdb, a
redis-server, gunicorn), on free loopback ports; the shared ones are left alone. The faults
that need no server of their own (unstorable characters, each provider's stop reasons, a
stopped reply's usage, forged event framing) are the fault suite's tests, run here and
counted case by case. A damaged reply is one whose saved text or status differs from what
its provider sent and its reader saw, or whose stream never ended; every figure in the
"damaged" and "500s" columns must be 0.

    .venv/bin/python bench/faults.py [--quick]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.databases import fresh_postgres_database, postgres_unavailable_reason  # noqa: E402
from tests.faults.scenarios import (  # noqa: E402
    Outcome,
    graceful_reload,
    postgres_outage,
    process_killed,
    redis_outage,
    sqlite_import_load,
)
from tests.faults.servers import OwnPostgres, OwnRedis  # noqa: E402

# The fault suite's tests that need no server of their own: (what they try, their file).
CASES = [
    ("NUL and unstorable characters in every input and in model output", "test_unstorable_text.py"),
    ("Each provider's stop reasons; Continue on a cut reply", "test_stop_reasons.py"),
    ("Stopped, broken and refused replies: their usage", "test_usage.py"),
    ("Line breaks and field names in model text (SSE framing)", "test_framing.py"),
    ("Leases and Stop across processes; several processes without Redis", "test_leases.py"),
]


def server_faults(quick: bool, workdir: Path) -> list[Outcome]:
    """The faults that stop, kill or starve a server: each with servers of its own."""
    pg, redis = OwnPostgres(), OwnRedis()
    try:
        runs: list[Callable[[], Outcome]] = [
            lambda: postgres_outage(pg, outage=8.0),
            lambda: sqlite_import_load(
                _fresh(workdir, "sqlite"), seconds=10.0 if quick else 30.0, chats=20 if quick else 50
            ),
            lambda: _on_postgres(lambda url: redis_outage(redis, url)),
            lambda: process_killed(pg, redis, _fresh(workdir, "killed")),
            lambda: graceful_reload(pg, _fresh(workdir, "reload")),
        ]
        return [run() for run in runs]
    finally:
        redis.close()
        pg.close()


def _fresh(workdir: Path, name: str) -> Path:
    directory = workdir / name
    directory.mkdir()
    return directory


def _on_postgres(run: Callable[[str], Outcome]) -> Outcome:
    reason = postgres_unavailable_reason()
    if reason is not None:
        return Outcome(f"skipped: {reason}")
    with fresh_postgres_database() as url:
        return run(url)


def case_faults(workdir: Path) -> list[Outcome]:
    """The fault suite's input and provider cases, through pytest, counted per file."""
    report = workdir / "cases.xml"
    files = [str(ROOT / "tests" / "faults" / name) for _, name in CASES]
    began = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "pytest", *files, "-q", "-p", "no:cacheprovider", f"--junitxml={report}"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    seconds = (time.monotonic() - began) / len(CASES)
    cases = ElementTree.parse(report).getroot().iter("testcase")
    outcomes = {name: Outcome(fault, seconds=seconds) for fault, name in CASES}
    for case in cases:
        outcome = outcomes[case.get("classname", "").split(".")[2] + ".py"]
        outcome.tried += 1
        if case.find("failure") is not None or case.find("error") is not None:
            outcome.damaged.append(case.get("name", ""))
    return list(outcomes.values())


def print_table(outcomes: list[Outcome]) -> None:
    header = f"{'fault':<72} {'tried':>6} {'replies':>8} {'damaged':>8} {'500s':>5} {'seconds':>8}"
    print("\n" + header)
    print("-" * len(header))
    for outcome in outcomes:
        replies = str(outcome.replies) if outcome.replies else ""
        print(
            f"{outcome.fault[:72]:<72} {outcome.tried:>6} {replies:>8} {len(outcome.damaged):>8} "
            f"{outcome.errors_500:>5} {outcome.seconds:>8.1f}"
        )
    total = sum(len(o.damaged) + o.errors_500 for o in outcomes)
    print(
        f"\n{'PASS' if total == 0 else 'FAIL'}: {sum(len(o.damaged) for o in outcomes)} replies or cases damaged, "
        f"{sum(o.errors_500 for o in outcomes)} answers of 500."
    )
    for outcome in outcomes:
        for line in [*outcome.notes, *outcome.damaged[:5]]:
            print(f"  {outcome.fault[:40]}: {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a shorter SQLite load (10 s, 40 messages)")
    args = parser.parse_args()
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as directory:
        workdir = Path(directory)
        outcomes = server_faults(args.quick, workdir) + case_faults(workdir)
    print_table(outcomes)
    print(f"\nTook {time.monotonic() - began:.0f} s.")


if __name__ == "__main__":
    main()
