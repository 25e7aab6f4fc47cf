"""Benchmark of the tailer: write-to-handoff latency and the tailer's CPU use.

The tailer runs in a child process (so its CPU time is its own: the tailer thread, the
inotify thread, parsing); this process appends 1.7+ lines at a steady rate, each
carrying its wall-clock write time. The child's sink records, per entry, the time it was
handed off minus the time it was written. An entry is handed off when the next line's
header arrives (it could have continuation lines) or after the reader's idle flush, so
at a steady rate the latency includes one inter-line gap.

    .venv/bin/python bench/tail.py --rate 50 --seconds 30
    .venv/bin/python bench/tail.py --rate 0 --seconds 60          # idle
    .venv/bin/python bench/tail.py --rate 1000 --seconds 20
    .venv/bin/python bench/tail.py --rate 50 --seconds 20 --poll-only
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.model import Checkpoint, Entry  # noqa: E402
from agent.sources.tail import ReadFrom, ServerSource, Tailer  # noqa: E402
from agent.sources.tail.sink import MemoryCheckpointStore  # noqa: E402

_WRITTEN = re.compile(r"written=(\d+\.\d+)")
WARMUP_SECONDS = 1.0


class LatencySink:
    """Records handoff minus write time for each entry; always has room."""

    def __init__(self) -> None:
        self.latencies: list[float] = []

    def deliver(
        self, entries: Sequence[Entry], checkpoint: Checkpoint, context: object = None
    ) -> None:
        now = time.time()
        for entry in entries:
            match = _WRITTEN.search(entry.line)
            if match:
                self.latencies.append(now - float(match[1]))

    def batched(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def has_room(self, server_id: str | None = None) -> bool:
        return True

    def wait_for_room(self, timeout: float | None = None) -> bool:
        return True


def child(log: Path, seconds: float, poll_only: bool) -> None:
    """Run the tailer for warm-up + ``seconds``; print CPU and latencies as JSON."""
    sink = LatencySink()
    tailer = Tailer(
        [ServerSource("bench", log, ReadFrom.BEGINNING)],
        sink,
        MemoryCheckpointStore(),
        use_inotify=not poll_only,
    )
    thread = threading.Thread(target=tailer.run)
    thread.start()
    time.sleep(WARMUP_SECONDS)  # start-up (imports, first open) is not measured
    cpu0, wall0 = time.process_time(), time.monotonic()
    time.sleep(seconds)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    tailer.stop()
    thread.join()
    print(json.dumps({"cpu": cpu, "wall": wall, "latencies": sink.latencies}))


def line(n: int) -> bytes:
    """A 1.7+ chat line with a counter and its write time."""
    return (
        f"[12:00:{n % 60:02}] [Server thread/INFO]: <Steve> message {n} written={time.time():.6f}\n"
    ).encode()


def parent(rate: float, seconds: float, poll_only: bool) -> None:
    """Start the child tailer, append at ``rate`` lines/s, and report."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "latest.log"
        log.touch()
        args = [sys.executable, __file__, "--child", str(log), "--seconds", str(seconds)]
        proc = subprocess.Popen(
            [*args, *(["--poll-only"] if poll_only else [])], stdout=subprocess.PIPE
        )
        time.sleep(WARMUP_SECONDS)
        written = 0
        with log.open("ab", buffering=0) as out:
            start = time.monotonic()
            while rate > 0 and time.monotonic() - start < seconds - 1.5:
                out.write(line(written))
                written += 1
                delay = start + written / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
        stdout, _ = proc.communicate(timeout=seconds + 30)
    result = json.loads(stdout)
    report(rate, written, result, poll_only)


def report(rate: float, written: int, result: dict, poll_only: bool) -> None:
    """Print the figures in the shape bench/README.md quotes."""
    cpu_pct = 100 * result["cpu"] / result["wall"]
    print(f"mode: {'polling only' if poll_only else 'inotify + polling'}, rate {rate:g} lines/s")
    print(f"tailer CPU: {cpu_pct:.3f} % of one core over {result['wall']:.1f} s")
    lat = sorted(result["latencies"])
    if not lat:
        print("no lines handed off")
        return
    p50 = statistics.median(lat) * 1000
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
    print(f"lines written {written}, handed off {len(lat)}")
    print(
        f"write->handoff latency: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {lat[-1] * 1000:.1f} ms"
    )


def main() -> None:
    """Parse arguments and run the parent or the child side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0, help="lines per second (0: idle)")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--poll-only", action="store_true", help="no inotify: 1 s polling")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(options.child, options.seconds, options.poll_only)
    else:
        parent(options.rate, options.seconds, options.poll_only)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
