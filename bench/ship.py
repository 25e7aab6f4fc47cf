"""Benchmark of spool + uploader against a fast local receiver (a separate process).

    .venv/bin/python bench/ship.py live --entries 50000            # entries/s, CPU/entry, p99
    .venv/bin/python bench/ship.py live --entries 50000 --error-rate 0.1
    .venv/bin/python bench/ship.py backlog --entries 1000000       # drain: RSS must stay flat
    .venv/bin/python bench/ship.py spool-sync                      # NORMAL vs FULL commit cost

"live": a producer thread appends records in transactions of ``--append-batch`` with a
checkpoint while the uploader ships them; CPU is this whole process (spool writes, sends,
bookkeeping), measured with ``time.process_time``. Latency is append→accepted per entry.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.model import Checkpoint  # noqa: E402
from agent.ship.auth import static_token  # noqa: E402
from agent.ship.transport import HttpxTransport  # noqa: E402
from agent.ship.uploader import Uploader, UploaderOptions  # noqa: E402
from agent.state.deadletter import DeadLetterFile  # noqa: E402
from agent.state.spool import Spool, SpooledRecord, SpoolOptions  # noqa: E402
from agent.testing import FakeTransport, accepted, make_records  # noqa: E402

TOKEN = "so_test_bench0000000"


def start_receiver(error_rate: float) -> tuple[subprocess.Popen[str], str]:
    """The receiver process and its base URL."""
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "bench" / "receiver.py"),
            "--token",
            TOKEN,
            "--error-rate",
            str(error_rate),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    return proc, f"http://127.0.0.1:{port}"


def rss_mb() -> float:
    """Current resident set size of this process in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def uploader_for(spool: Spool, url: str, args: argparse.Namespace, **kw: object) -> Uploader:
    """An uploader with the benchmark's options."""
    options = UploaderOptions(
        url,
        transport=args.transport,
        concurrency=args.concurrency,
        backoff_initial_seconds=0.1,
    )
    dead = DeadLetterFile(Path(spool.options.path).with_name("dead.ndjson"))
    if args.transport == "httpx-aiohttp":  # measured only; not a shipped option
        import httpx_aiohttp

        kw["transport"] = HttpxTransport(
            f"{url}/logs",
            SecretStr(TOKEN),
            concurrency=args.concurrency,
            timeout=10,
            transport=httpx_aiohttp.AiohttpTransport(),
        )
        options = replace(options, transport="httpx")
    return Uploader(spool, options, static_token(TOKEN), dead_letters=dead, **kw)  # type: ignore[arg-type]


def run_loop(main: Coroutine[Any, Any, None], args: argparse.Namespace) -> None:
    """Run ``main`` on asyncio's loop, or uvloop's with ``--loop uvloop`` (as the daemon
    does where uvloop is installed: agent/app/daemon.py)."""
    if args.loop == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(main)
    else:
        asyncio.run(main)


def live(args: argparse.Namespace) -> None:
    """Producer thread + uploader; throughput, CPU per entry, latency percentiles."""
    proc, url = start_receiver(args.error_rate)
    tmp = Path(tempfile.mkdtemp())
    spool = Spool(SpoolOptions(tmp / "spool.sqlite3", synchronous=args.synchronous))
    appended: dict[str, float] = {}
    latencies: list[float] = []

    def on_accepted(record: SpooledRecord) -> None:
        latencies.append(time.perf_counter() - appended.pop(record.event_id))

    def produce() -> None:
        done = 0
        while done < args.entries:
            count = min(args.append_batch, args.entries - done)
            batch = list(make_records(count, start=done))
            now = time.perf_counter()
            for record in batch:
                appended[record.event_id] = now
            if not spool.append(batch, Checkpoint("main-1", "f" * 16, done + count)):
                spool.wait_for_room()
            done += count
            if args.rate:
                time.sleep(count / args.rate)

    uploader = uploader_for(spool, url, args, on_accepted=on_accepted)
    cpu0, t0 = time.process_time(), time.perf_counter()
    producer = threading.Thread(target=produce)
    producer.start()

    async def main() -> None:
        task = asyncio.create_task(uploader.run())
        while len(latencies) < args.entries:
            await asyncio.sleep(0.05)
        uploader.request_stop()
        await task

    run_loop(main(), args)
    producer.join()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    proc.terminate()
    latencies.sort()
    n = len(latencies)
    p50, p99 = latencies[n // 2] * 1000, latencies[int(n * 0.99)] * 1000
    print(
        f"live transport={args.transport} concurrency={args.concurrency} "
        f"sync={args.synchronous} error_rate={args.error_rate} rate={args.rate or 'max'}: "
        f"{n} entries in {elapsed:.2f} s = {n / elapsed:,.0f} entries/s; "
        f"CPU {cpu:.2f} s = {cpu / n * 1e6:.0f} µs/entry; "
        f"latency p50 {p50:.1f} ms p99 {p99:.1f} ms; "
        f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB"
    )


def fill(args: argparse.Namespace) -> None:
    """Fill a spool with a backlog (run as its own process, so the drain's RSS is clean)."""
    spool = Spool(SpoolOptions(Path(args.dir) / "spool.sqlite3", max_bytes=8 * 1024**3))
    step = 10_000
    for start in range(spool.stats().depth, args.entries, step):
        count = min(step, args.entries - start)
        spool.append(make_records(count, start=start), Checkpoint("main-1", "f" * 16, start))


def backlog(args: argparse.Namespace) -> None:
    """Fill the spool with a backlog (in a child process), then drain it sampling RSS."""
    tmp = Path(args.dir or tempfile.mkdtemp())
    command = [sys.executable, __file__, "fill", "--dir", str(tmp), "--entries", str(args.entries)]
    subprocess.run(command, check=True)
    spool = Spool(SpoolOptions(tmp / "spool.sqlite3", max_bytes=8 * 1024**3))
    depth = spool.stats().depth
    size = sum(p.stat().st_size for p in tmp.iterdir())
    print(f"backlog: {depth:,} entries, {size / 1e6:.0f} MB on disk; RSS {rss_mb():.1f} MB")
    proc, url = start_receiver(0.0)
    uploader = uploader_for(spool, url, args)
    samples: list[tuple[int, float]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(1.0):
            samples.append((spool.stats().depth, rss_mb()))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu0, t0 = time.process_time(), time.perf_counter()
    run_loop(uploader.run(until_empty=True), args)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    stop.set()
    proc.terminate()
    every = max(1, len(samples) // 10)
    for remaining, rss in samples[::every]:
        print(f"  remaining {remaining:>9,}  RSS {rss:6.1f} MB")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"drained {depth:,} in {elapsed:.0f} s = {depth / elapsed:,.0f} entries/s, "
        f"CPU {cpu / depth * 1e6:.0f} µs/entry; peak RSS {peak:.1f} MB"
    )
    shutil.rmtree(tmp)


def overhead(args: argparse.Namespace) -> None:
    """CPU per entry without HTTP: take, ack (one commit each), metrics, tasks, retry glue."""
    tmp = Path(tempfile.mkdtemp())
    spool = Spool(SpoolOptions(tmp / "spool.sqlite3"))
    spool.append(make_records(args.entries), None)
    fake = FakeTransport(lambda body, key: accepted())
    uploader = uploader_for(spool, "http://127.0.0.1:9", args, transport=fake)
    cpu0 = time.process_time()
    run_loop(uploader.run(until_empty=True), args)
    cpu = time.process_time() - cpu0
    print(f"no HTTP (fake transport): {cpu / args.entries * 1e6:.0f} µs/entry")
    shutil.rmtree(tmp)


def spool_sync(args: argparse.Namespace) -> None:
    """Cost of append (batches of 64 + checkpoint) and ack (one per entry) per setting."""
    for mode in ("NORMAL", "FULL"):
        tmp = Path(tempfile.mkdtemp(dir=args.dir))
        spool = Spool(SpoolOptions(tmp / "spool.sqlite3", synchronous=mode))  # type: ignore[arg-type]
        records = list(make_records(20_000))
        t0 = time.perf_counter()
        for i in range(0, len(records), 64):
            spool.append(records[i : i + 64], Checkpoint("main-1", "f" * 16, i))
        append = time.perf_counter() - t0
        taken = spool.take(5_000)
        t0 = time.perf_counter()
        for record in taken:
            spool.ack((record,))
        ack = time.perf_counter() - t0
        print(
            f"synchronous={mode}: append {len(records) / append:,.0f} entries/s "
            f"({append / (len(records) / 64) * 1e6:.0f} µs per 64-entry transaction); "
            f"ack {ack / len(taken) * 1e6:.0f} µs per entry (one transaction each)"
        )


def main() -> None:
    """Parse arguments and run one benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["live", "backlog", "fill", "overhead", "spool-sync"])
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument(
        "--transport", choices=["http1", "aiohttp", "httpx", "httpx-aiohttp"], default="http1"
    )
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--append-batch", type=int, default=64)
    parser.add_argument("--rate", type=float, default=0.0, help="producer entries/s (0: max)")
    parser.add_argument("--synchronous", choices=["NORMAL", "FULL"], default="NORMAL")
    parser.add_argument("--dir", default=None, help="where to put the spool (default: /tmp)")
    args = parser.parse_args()
    {
        "live": live,
        "backlog": backlog,
        "fill": fill,
        "overhead": overhead,
        "spool-sync": spool_sync,
    }[args.mode](args)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
