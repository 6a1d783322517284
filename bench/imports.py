"""Import crafted and ordinary files into the production server while other users' pages are timed.

Builds the crafted files that once took minutes or gigabytes (a PDF page of 950,000 text
operations, the same stream on five pages, a CSV that sends the standard sniffer into
backtracking, a DOCX of fifty 5 MB header parts, an XLSX with a cell in column XFD on 20,000
rows, a DOCX table spanning 10,000,000 columns, 24 MB of text without a full stop) and ordinary
PDF, DOCX, XLSX, CSV and text files of 1-24 MB. gunicorn serves the app (gunicorn.conf.py, the
default import settings) on a fresh SQLite database, with a fake Anthropic server behind it.

First, with nothing importing, a client times the log-in page and another follows streaming
replies (the gaps between their deltas). Then, while the same two clients go on, one user uploads
the crafted files and waits until each is stored or refused, then does the same with the ordinary
ones. The table gives each file's result, its reading time and its reading process's peak memory;
the ordinary files' MB/s against importing the same file again alone (nothing else running); the
log-in page and the delta gaps while each batch is read (and while files are uploaded) against
the idle run; and the web process's memory during each batch and after.

    .venv/bin/python bench/imports.py [--quick]
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from werkzeug.datastructures import FileStorage, MultiDict  # noqa: E402
from werkzeug.test import encode_multipart  # noqa: E402

from bench.chat import (  # noqa: E402
    Browser,
    PeakSampler,
    Reply,
    app_reply,
    bench_model,
    fake_in_child,
    p95,
    production_server,
    server_rss_mb,
)
from bench.search import Corpus  # noqa: E402
from tests import hostile  # noqa: E402

REPLY_TOKENS, REPLY_DELAY_MS = 60, 25
LOGIN_PAUSE = 0.1
TIMEOUT_S = 120  # the default IMPORT_TIMEOUT_S the server runs with
MB = 1_000_000


@dataclass(frozen=True)
class File:
    label: str
    name: str
    data: bytes
    hostile: bool


@dataclass
class Result:
    file: File
    status: str
    message: str
    seconds: float
    peak_mb: float | None
    alone_s: float | None = None  # the same file imported again with nothing else running


# -- ordinary files -----------------------------------------------------------------------


def _noise_png(rng: random.Random, side: int = 400) -> bytes:
    from PIL import Image

    image = Image.frombytes("L", (side, side), rng.randbytes(side * side))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def ordinary_pdf(corpus: Corpus, megabytes: float) -> bytes:
    """A report: pages of prose, each with a photograph-like image (which is most of its size)."""
    from fpdf import FPDF

    document = FPDF()
    document.set_font("helvetica", size=10)
    pages = max(1, int(megabytes * MB / 175_000))
    for _ in range(pages):
        document.add_page()
        document.multi_cell(0, 5, corpus.document(2_500).encode("latin-1", "replace").decode("latin-1"))
        document.image(io.BytesIO(_noise_png(corpus.rng)), w=60)
    return bytes(document.output())


def ordinary_docx(corpus: Corpus, megabytes: float) -> bytes:
    """A long Word document: mostly prose and tables, with images making up the rest of its size."""
    import docx
    from docx.shared import Cm

    document = docx.Document()
    text_bytes = megabytes * MB * 0.15
    written = 0
    while written < text_bytes * 6:  # prose compresses about sixfold
        paragraph = corpus.document(1_500)
        document.add_paragraph(paragraph)
        written += len(paragraph)
    table = document.add_table(rows=50, cols=4)
    for row in table.rows:
        for cell in row.cells:
            cell.text = corpus.sentence()[:40]
    for _ in range(int(megabytes * MB * 0.85 / 160_000)):
        document.add_picture(io.BytesIO(_noise_png(corpus.rng)), width=Cm(8))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _table_rows(corpus: Corpus, count: int) -> list[list[object]]:
    regions = ["North", "South", "East", "West"]
    return [
        [
            number,
            corpus.sentence()[:30],
            corpus.rng.choice(regions),
            round(corpus.rng.uniform(10, 9000), 2),
            corpus.rng.choice(["open", "won", "lost"]),
            corpus.sentence()[:60],
        ]
        for number in range(count)
    ]


def ordinary_xlsx(corpus: Corpus, megabytes: float) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Pipeline")
    sheet.append(["Id", "Customer", "Region", "Amount", "Status", "Notes"])
    for row in _table_rows(corpus, int(megabytes * MB / 62)):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def ordinary_csv(corpus: Corpus, megabytes: float) -> bytes:
    lines = ["Id,Customer,Region,Amount,Status,Notes"]
    lines += [",".join(f'"{value}"' for value in row) for row in _table_rows(corpus, int(megabytes * MB / 130))]
    return "\n".join(lines).encode()


def ordinary_text(corpus: Corpus, megabytes: float) -> bytes:
    return corpus.document(int(megabytes * MB)).encode()[: int(megabytes * MB)]


def build_files(quick: bool) -> list[File]:
    corpus = Corpus(random.Random(13))
    big = 5 if quick else 20
    files = [
        File("PDF page of 950,000 operations (17 KB)", "flood.pdf", hostile.pdf_operator_flood(), True),
        File("the same on five pages (18 KB)", "flood5.pdf", hostile.pdf_operator_flood(pages=5), True),
        File("CSV sniffer trap (63 KB)", "trap.csv", hostile.csv_sniffer_trap(), True),
        File("DOCX, 50 header parts of ~5 MB", "headers.docx", hostile.docx_header_flood(), True),
        File("XLSX, a cell in XFD on 20,000 rows", "far.xlsx", hostile.xlsx_far_column(), True),
        File("DOCX cells spanning 10,000,000 columns", "spans.docx", hostile.docx_wide_spans(), True),
        File(
            "text without a full stop (24 MB)", "nostops.txt", hostile.text_without_full_stops(8 if quick else 24), True
        ),
    ]
    for megabytes in (1, big):
        files += [
            File(f"ordinary PDF ({megabytes} MB)", f"report-{megabytes}.pdf", ordinary_pdf(corpus, megabytes), False),
            File(f"ordinary DOCX ({megabytes} MB)", f"brief-{megabytes}.docx", ordinary_docx(corpus, megabytes), False),
            File(
                f"ordinary XLSX ({megabytes} MB)",
                f"pipeline-{megabytes}.xlsx",
                ordinary_xlsx(corpus, min(megabytes, 15)),
                False,
            ),
            File(f"ordinary CSV ({megabytes} MB)", f"pipeline-{megabytes}.csv", ordinary_csv(corpus, megabytes), False),
        ]
    files.append(
        File(f"ordinary text ({8 if quick else 24} MB)", "notes.txt", ordinary_text(corpus, 8 if quick else 24), False)
    )
    return files


# -- the clients -------------------------------------------------------------------------


class Watchers:
    """Another user's streaming replies and an anonymous log-in page, timed until stopped."""

    def __init__(self, port: int, watcher: Browser, thread_id: str) -> None:
        self.logins: list[tuple[float, float]] = []  # (when it answered, seconds)
        self.replies: list[Reply] = []
        self._port, self._watcher, self._thread_id = port, watcher, thread_id
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._login_loop), threading.Thread(target=self._reply_loop)]

    def _login_loop(self) -> None:
        visitor = Browser(self._port)
        while not self._stop.is_set():
            started = time.perf_counter()
            status, _, _ = visitor.request("GET", "/login")
            assert status == 200
            now = time.perf_counter()
            self.logins.append((now, now - started))
            self._stop.wait(LOGIN_PAUSE)
        visitor.close()

    def _reply_loop(self) -> None:
        while not self._stop.is_set():
            self.replies.append(app_reply(self._watcher, self._thread_id))

    def __enter__(self) -> Watchers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def login_times(self, window: tuple[float, float]) -> list[float]:
        return [seconds for when, seconds in self.logins if window[0] <= when < window[1]]

    def gaps(self, window: tuple[float, float]) -> list[float]:
        """Gaps between deltas, each counted in the window its later delta arrived in."""
        return [
            b - a
            for reply in self.replies
            for a, b in zip(reply.arrivals, reply.arrivals[1:], strict=False)
            if window[0] <= b < window[1]
        ]


def upload(user: Browser, project_id: str, file: File) -> None:
    values = MultiDict([("files", FileStorage(io.BytesIO(file.data), file.name))])
    boundary, body = encode_multipart(values)
    headers = {
        "Cookie": user.cookie_header,
        "X-CSRFToken": user.csrf,
        "HX-Request": "true",
        "HX-Target": "upload-results",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    connection = HTTPConnection("127.0.0.1", user.port, timeout=120)
    try:
        connection.request("POST", f"/projects/{project_id}/documents", body, headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, f"uploading {file.name} answered {response.status}"
    finally:
        connection.close()


def new_project(user: Browser, name: str) -> str:
    status, location, _ = user.request("POST", "/projects", {"csrf_token": user.csrf, "name": name})
    assert status == 303, f"creating a project answered {status}"
    return location.rsplit("/", 1)[1]


def wait_for_imports(engine: sa.Engine, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    query = sa.text("SELECT count(*) FROM documents WHERE status = 'processing'")
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            if not connection.scalar(query):
                return
        time.sleep(0.2)
    raise RuntimeError(f"imports still running after {timeout:.0f} s")


def results(engine: sa.Engine, project_id: str, files: list[File]) -> list[Result]:
    query = sa.text(
        "SELECT d.filename, d.status, j.message, j.started_at, j.finished_at, j.peak_memory_kb "
        "FROM documents d JOIN import_jobs j ON j.document_id = d.id WHERE d.project_id = :project"
    )
    with engine.connect() as connection:
        rows = {row.filename: row for row in connection.execute(query, {"project": project_id})}
    out = []
    for file in files:
        row = rows[file.name]
        seconds = (_when(row.finished_at) - _when(row.started_at)).total_seconds()
        peak = row.peak_memory_kb / 1024 if row.peak_memory_kb else None
        out.append(Result(file, row.status, row.message or "", seconds, peak))
    return out


def _when(value: object):  # noqa: ANN202  (SQLite hands back text)
    from datetime import datetime

    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


# -- the run and the table ---------------------------------------------------------------


@dataclass
class Round:
    """One batch of uploads: while they were sent, while they were read, and the memory meanwhile."""

    name: str
    uploading: tuple[float, float]
    reading: tuple[float, float]
    memory_peak: float


@dataclass
class Run:
    watchers: Watchers
    idle: tuple[float, float]
    memory_idle: float
    rounds: list[Round]
    memory_after: float
    results: list[Result]


def import_round(
    name: str, importer: Browser, project_id: str, files: list[File], engine: sa.Engine, server_pid: int
) -> Round:
    with PeakSampler(lambda: server_rss_mb(server_pid)) as memory:
        started = time.perf_counter()
        for file in files:
            upload(importer, project_id, file)
        sent = time.perf_counter()
        wait_for_imports(engine, timeout=TIMEOUT_S * len(files))
    return Round(name, (started, sent), (sent, time.perf_counter()), memory.peak)


def measure(files: list[File], idle_s: float) -> Run:
    with tempfile.TemporaryDirectory() as directory, fake_in_child() as fake_url:
        workdir = Path(directory)
        with production_server(fake_url, workdir) as server:
            importer, watcher = Browser(server.port), Browser(server.port)
            importer.register("importer@example.com")
            watcher.register("watcher@example.com")
            thread_id = watcher.new_chat(bench_model(REPLY_TOKENS, REPLY_DELAY_MS))
            project_id = new_project(importer, "Under load")
            engine = sa.create_engine(f"sqlite:///{workdir / 'bench.db'}")
            with Watchers(server.port, watcher, thread_id) as watchers:
                time.sleep(idle_s)
                idle = (watchers.logins[0][0] if watchers.logins else 0.0, time.perf_counter())
                memory_idle = server_rss_mb(server.pid)
                rounds = [
                    import_round(
                        name, importer, project_id, [f for f in files if f.hostile == crafted], engine, server.pid
                    )
                    for name, crafted in (("crafted", True), ("ordinary", False))
                ]
            time.sleep(2)
            run = Run(
                watchers, idle, memory_idle, rounds, server_rss_mb(server.pid), results(engine, project_id, files)
            )
            _import_alone(importer, engine, [file for file in files if not file.hostile], run)
            engine.dispose()
            return run


def _import_alone(importer: Browser, engine: sa.Engine, files: list[File], run: Run) -> None:
    """Import each ordinary file again, one at a time, with nothing else running."""
    project_id = new_project(importer, "Alone")
    for file in files:
        upload(importer, project_id, file)
        wait_for_imports(engine, timeout=TIMEOUT_S)
    alone = {result.file.name: result.seconds for result in results(engine, project_id, files)}
    for result in run.results:
        result.alone_s = alone.get(result.file.name)


def _seconds(value: float) -> str:
    return f"{value:.2f} s"


def file_table(run: Run) -> list[str]:
    header = (
        f"{'file':<40} {'size':>9} {'result':<8} {'read in':>9} {'peak':>8} {'MB/s':>6} "
        f"{'alone':>6} {'ratio':>6}  reason"
    )
    lines = [header, "-" * len(header)]
    for result in run.results:
        size = len(result.file.data) / MB
        peak = f"{result.peak_mb:.0f} MB" if result.peak_mb else "at cap"
        rate = alone = ratio = ""
        if result.status == "stored":
            rate = f"{size / max(result.seconds, 1e-3):.2f}"
            if result.alone_s:
                alone = f"{size / result.alone_s:.2f}"
                ratio = f"{result.alone_s / max(result.seconds, 1e-3):.2f}x"
        reason = "" if result.status == "stored" else result.message
        lines.append(
            f"{result.file.label:<40} {size:>7.2f}MB {result.status:<8} {_seconds(result.seconds):>9} "
            f"{peak:>8} {rate:>6} {alone:>6} {ratio:>6}  {reason}"
        )
    return lines


def _pass(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def summary_table(run: Run) -> list[str]:
    watchers, idle = run.watchers, run.idle
    reading = {round.name: round.reading for round in run.rounds}
    sending = [round.uploading for round in run.rounds]
    header = (
        f"{'measurement':<32} {'idle':>8} {'reading crafted':>16} {'reading ordinary':>17} {'uploading':>10}  target"
    )
    lines = [header, "-" * len(header)]

    def row(name: str, figure: Callable[[tuple[float, float]], float], target: str, limit: float | None) -> None:
        base = figure(idle)
        crafted, ordinary = figure(reading["crafted"]), figure(reading["ordinary"])
        upload = max(figure(window) for window in sending)
        verdict = "" if limit is None else " " + _pass(max(crafted, ordinary) <= limit * base)
        lines.append(
            f"{name:<32} {base:>8.1f} {crafted:>9.1f} ({crafted / base:.1f}x) "
            f"{ordinary:>10.1f} ({ordinary / base:.1f}x) {upload:>10.1f}  {target}{verdict}"
        )

    row("log-in page p95 (ms)", lambda w: 1000 * _p95(watchers.login_times(w)), "within 2x", 2)
    row("log-in page median (ms)", lambda w: 1000 * _median(watchers.login_times(w)), "", None)
    row("reply delta gap p95 (ms)", lambda w: 1000 * _p95(watchers.gaps(w)), "within 2x", 2)
    row("reply delta gap median (ms)", lambda w: 1000 * _median(watchers.gaps(w)), "", None)
    peaks = {round.name: round.memory_peak for round in run.rounds}
    growth = peaks["crafted"] - run.memory_idle
    lines.append(
        f"{'web process memory (MB)':<32} {run.memory_idle:>8.1f} {peaks['crafted']:>9.1f} (+{growth:.0f})  "
        f"{peaks['ordinary']:>10.1f} (+{peaks['ordinary'] - run.memory_idle:.0f}) {'':>10}  "
        f"crafted: +50 MB at most {_pass(growth < 50)}"
    )
    lines.append(
        f"web process memory once all were read: {run.memory_after:.1f} MB "
        f"(+{run.memory_after - run.memory_idle:.0f} MB)"
    )
    crafted_ok = all(
        r.seconds <= TIMEOUT_S and (r.status == "refused" or r.file.name in ("trap.csv", "nostops.txt"))
        for r in run.results
        if r.file.hostile
    )
    lines.append(f"every crafted file refused (or read) within its limit: {_pass(crafted_ok)}")
    lines.append(
        f"samples: log-in {len(watchers.logins)}, replies {len(watchers.replies)} "
        f"({REPLY_TOKENS} deltas, {REPLY_DELAY_MS} ms apart); uploads are sent one at a time"
    )
    return lines


def _p95(values: list[float]) -> float:
    return p95(values) if values else float("nan")


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller ordinary files and a shorter idle run")
    args = parser.parse_args()
    print("building the files…", flush=True)
    files = build_files(args.quick)
    print(f"importing {len(files)} files ({sum(len(f.data) for f in files) / MB:.0f} MB)…", flush=True)
    run = measure(files, idle_s=6 if args.quick else 20)
    print()
    print("\n".join(file_table(run)))
    print()
    print("\n".join(summary_table(run)))
    print(
        "\n'read in': from the job's start to its end, passages stored, while every file imports and the other "
        "clients run; 'peak': the reading process's peak resident memory ('at cap': killed at "
        "IMPORT_MAX_MEMORY_MB); 'alone': MB/s importing the same file again with nothing else running (the figure "
        "bench/search.py's upload+parse rows give); ratio: loaded against alone. The machine may be shared."
    )


if __name__ == "__main__":
    main()
