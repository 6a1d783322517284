"""How much the provider adapters cost on top of their SDKs.

For each adapter, a fake server (in its own process, so it does not compete
for the GIL) streams a 500-token reply with no pacing. The same SDK client
reads it bare (the SDK's own streaming iterator) and through our adapter,
alternately, many times. Prints one table: time to the first text event
(median, p95) and text events per second (median), with the adapter's delta.

    /work/main/.venv/bin/python bench/providers.py [--runs 50] [--tokens 500]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakes import FakeAnthropic, FakeGemini, FakeOpenAI, FakeServer, token_reply  # noqa: E402
from webapp.llm.base import Message, TextDelta  # noqa: E402
from webapp.llm.registry import build_registry  # noqa: E402

WARMUP = 5
SYSTEM = "You are a business analyst's assistant."
QUESTION = "Write the user stories."


@dataclass(frozen=True)
class Row:
    name: str
    fake_class: type[FakeServer]
    url_suffix: str
    bare: Callable[[Any, str], Iterator[Any]]
    is_text: Callable[[Any], bool]


@dataclass(frozen=True)
class Run:
    first_event: float
    events_per_second: float
    # This process's CPU time per text event: the SDK's parsing plus, for the
    # adapter, its translation; free of the scheduling noise in wall time.
    cpu_per_event: float


def _bare_anthropic(client: Any, model: str) -> Iterator[Any]:
    messages = [{"role": "user", "content": QUESTION}]
    with client.messages.create(model=model, max_tokens=1024, system=SYSTEM, messages=messages, stream=True) as s:
        yield from s


def _bare_openai(client: Any, model: str) -> Iterator[Any]:
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}]
    with client.chat.completions.create(
        model=model,
        messages=messages,
        max_completion_tokens=1024,
        stream=True,
        stream_options={"include_usage": True},
    ) as s:
        yield from s


def _bare_gemini(client: Any, model: str) -> Iterator[Any]:
    config = {
        "system_instruction": SYSTEM,
        "max_output_tokens": 1024,
        "automatic_function_calling": {"disable": True},
        "automatic_continuation": False,
    }
    contents = [{"role": "user", "parts": [{"text": QUESTION}]}]
    yield from client.models.generate_content_stream(model=model, contents=contents, config=config)


def _anthropic_text(event: Any) -> bool:
    return event.type == "content_block_delta"


def _openai_text(chunk: Any) -> bool:
    return bool(chunk.choices) and bool(chunk.choices[0].delta.content)


def _gemini_text(chunk: Any) -> bool:
    return bool(chunk.candidates) and bool(chunk.candidates[0].content.parts[0].text)


ROWS = (
    Row("anthropic", FakeAnthropic, "", _bare_anthropic, _anthropic_text),
    Row("gemini", FakeGemini, "", _bare_gemini, _gemini_text),
    Row("openai", FakeOpenAI, "/v1", _bare_openai, _openai_text),
)


def _serve(fake_class: type[FakeServer], tokens: int, count: int, urls: Any, stop: Any) -> None:
    with fake_class() as fake:
        fake.script(*[token_reply(tokens)] * count)
        urls.put(fake.url)
        stop.wait()


@contextmanager
def _fake_in_child(fake_class: type[FakeServer], tokens: int, count: int) -> Iterator[str]:
    ctx = mp.get_context("spawn")
    urls, stop = ctx.Queue(), ctx.Event()
    child = ctx.Process(target=_serve, args=(fake_class, tokens, count, urls, stop), daemon=True)
    child.start()
    try:
        yield urls.get(timeout=30)
    finally:
        stop.set()
        child.join(timeout=10)


def _measure(open_stream: Callable[[], Iterable[Any]], is_text: Callable[[Any], bool]) -> Run:
    first = 0.0
    texts = 0
    cpu_started = time.process_time()
    started = time.perf_counter()
    for event in open_stream():
        if is_text(event):
            if not texts:
                first = time.perf_counter() - started
            texts += 1
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    return Run(first_event=first, events_per_second=texts / elapsed, cpu_per_event=cpu / texts)


def _bench_row(row: Row, runs: int, tokens: int) -> tuple[list[Run], list[Run]]:
    with _fake_in_child(row.fake_class, tokens, 2 * (runs + WARMUP)) as url:
        prefix = row.name.upper()
        config = {f"{prefix}_API_KEY": "bench", f"{prefix}_BASE_URL": url + row.url_suffix, "LLM_MAX_RETRIES": 0}
        provider = build_registry(config).get(row.name)
        client, model = provider.client, provider.default_model  # type: ignore[attr-defined]
        history = [Message("user", QUESTION)]
        bare: list[Run] = []
        adapter: list[Run] = []

        def run_bare() -> Run:
            return _measure(lambda: row.bare(client, model), row.is_text)

        def run_adapter() -> Run:
            return _measure(
                lambda: provider.stream(system=SYSTEM, history=history, tools=(), model=None, max_tokens=1024),
                lambda e: isinstance(e, TextDelta),
            )

        for i in range(runs + WARMUP):
            # Alternate which goes first, so neither always inherits a warm connection or a GC pause.
            first, second = (run_bare, run_adapter) if i % 2 else (run_adapter, run_bare)
            a, b = first(), second()
            bare_run, adapter_run = (a, b) if first is run_bare else (b, a)
            if i >= WARMUP:
                bare.append(bare_run)
                adapter.append(adapter_run)
    return bare, adapter


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def _print_table(results: list[tuple[str, list[Run], list[Run]]], runs: int, tokens: int) -> None:
    header = (
        f"{'provider':<10} {'1st bare':>14} {'1st adapter':>14} {'Δ1st':>6}"
        f" {'ev/s bare':>9} {'ev/s adpt':>9} {'ratio':>6} {'CPU µs/ev bare':>14} {'adpt':>5} {'Δ':>6}"
    )
    print(f"\n{tokens}-token reply, no pacing, {runs} runs per variant after {WARMUP} warm-up.")
    print("1st = ms to the first text event, median / p95; ev/s = text events per second, median;")
    print("CPU µs/ev = this process's CPU time per text event, median (SDK parsing + adapter).\n")
    print(header)
    print("-" * len(header))
    for name, bare, adapter in results:
        bare_first = [r.first_event * 1000 for r in bare]
        adapter_first = [r.first_event * 1000 for r in adapter]
        bare_rate = statistics.median(r.events_per_second for r in bare)
        adapter_rate = statistics.median(r.events_per_second for r in adapter)
        bare_cpu = statistics.median(r.cpu_per_event for r in bare) * 1e6
        adapter_cpu = statistics.median(r.cpu_per_event for r in adapter) * 1e6
        delta = statistics.median(adapter_first) - statistics.median(bare_first)
        print(
            f"{name:<10} {_spread(bare_first):>14} {_spread(adapter_first):>14} {delta:>+6.2f}"
            f" {bare_rate:>9.0f} {adapter_rate:>9.0f} {adapter_rate / bare_rate:>6.1%}"
            f" {bare_cpu:>14.1f} {adapter_cpu:>5.1f} {adapter_cpu / bare_cpu - 1:>+6.1%}"
        )


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} / {_p95(values):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--tokens", type=int, default=500)
    args = parser.parse_args()
    results = [(row.name, *_bench_row(row, args.runs, args.tokens)) for row in ROWS]
    _print_table(results, args.runs, args.tokens)


if __name__ == "__main__":
    main()
