"""Benchmark of the whole agent process on a host: CPU, RSS, open files, latency, exactly-once.

What the operator pays is the whole ``serverops-agent run`` process (every thread: the
inotify watcher, the tailer, parsing, the SQLite spool, the event loop, HTTP), so that is
what is measured, from ``/proc/<pid>``: CPU as utime + stime over the measured window, in
% of one core; RSS (VmRSS, the peak of one-second samples); open files (entries of
``/proc/<pid>/fd``, the peak). The agent ships to the bench receiver (tests/receiver.py)
run on 127.0.0.1 in this process, which notes each entry's arrival time.

Lines are written the way a server writes them: each one written and flushed on its own,
at a steady pace, spread evenly over the servers. Each carries its write time, so the
latency is write -> arrival at the receiver (it includes one gap between lines: an entry
is complete when the next line starts or after ``multiline_idle_seconds``). After the
window the writers stop and the bench waits for every line: each must arrive exactly once.

Cases (the issue's table):

    idle1      1 server ([[servers]] with a path), no lines
    rate1      1 server, 50 lines/s                 (also gives the latency p99)
    idle200    200 servers through one glob, no lines
    rate200    200 servers through one glob, 2 lines/s each

    .venv/bin/python bench/host.py --case rate1 --seconds 60
    .venv/bin/python bench/host.py --case all --seconds 30 --warmup 5
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.receiver import Receiver  # noqa: E402

TOKEN = "so_test_receiver0000"
_WRITTEN = re.compile(r"n=(\d+) written=(\d+\.\d+)")
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Case:
    """One row of the table: how many servers, how fast each writes, glob or table."""

    servers: int
    rate_per_server: float
    glob: bool


CASES = {
    "idle1": Case(1, 0.0, glob=False),
    "rate1": Case(1, 50.0, glob=False),
    "idle200": Case(200, 0.0, glob=True),
    "rate200": Case(200, 2.0, glob=True),
}


def cpu_seconds(pid: int) -> float:
    """utime + stime of every thread of ``pid`` (fields 14 and 15 of /proc/pid/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def open_files(pid: int) -> int:
    return sum(1 for _ in Path(f"/proc/{pid}/fd").iterdir())


def write_config(work: Path, case: Case, url: str) -> Path:
    token = work / "token"
    token.write_text(TOKEN + "\n")
    volumes = work / "volumes"
    if case.glob:
        servers = f'[[servers]]\nid = "{{1}}"\nlog = "{volumes}/*/logs/latest.log"\n'
    else:
        servers = "".join(
            f'[[servers]]\nid = "s{i}"\nlog = "{volumes}/s{i}/logs/latest.log"\n'
            for i in range(case.servers)
        )
    config = work / "config.toml"
    config.write_text(
        f'[api]\nurl = "{url}"\ntoken_file = "{token}"\n'
        f'[state]\ndir = "{work / "state"}"\n'
        f"{servers}"
        'read_from = "end"\n'
    )
    return config


def make_logs(work: Path, case: Case) -> list[Path]:
    logs = []
    for i in range(case.servers):
        folder = work / "volumes" / f"s{i}" / "logs"
        folder.mkdir(parents=True)
        (folder / "latest.log").write_bytes(b"")
        logs.append(folder / "latest.log")
    return logs


@contextmanager
def started(command: list[str], log: Path, env: dict[str, str]) -> Iterator[int]:
    """Run ``command`` (output to ``log``); yield its pid; stop it with SIGTERM afterwards."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=out, env=env)
    try:
        yield process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def running_agent(work: Path, case: Case, url: str) -> AbstractContextManager[int]:
    """``serverops-agent run`` on ``work``'s logs, shipping to ``url`` (its pid)."""
    config = write_config(work, case, url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVEROPS_")}
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "agent", "run", "--config", str(config)]
    return started(command, work / "agent.log", env)


Start = Callable[[Path, Case, str], AbstractContextManager[int]]


def run_case(
    name: str,
    case: Case,
    seconds: float,
    warmup: float,
    *,
    start: Start = running_agent,
    require_key: bool = True,
) -> dict[str, object]:
    """One case: ``start`` the shipper on fresh logs, write, measure, check arrivals
    (bench/versus.py starts syslog-ng instead, which cannot send an Idempotency-Key)."""
    with tempfile.TemporaryDirectory(prefix="host-bench-") as tmp, Receiver(TOKEN) as rx:
        work = Path(tmp)
        rx.state.messages = []
        rx.state.require_key = require_key
        logs = make_logs(work, case)
        with start(work, case, rx.url) as pid:
            time.sleep(warmup)  # start-up (imports, first scan, opening files) is not measured
            result = measure(pid, logs, case, seconds)
            result.update(arrivals(rx, result.pop("written_count"), deadline=60.0))  # type: ignore[arg-type]
        return {"case": name, **result}


def measure(pid: int, logs: list[Path], case: Case, seconds: float) -> dict[str, object]:
    files = [log.open("ab", buffering=0) for log in logs]
    total_rate = case.rate_per_server * len(files)
    written = 0
    peak_rss = peak_files = 0.0
    next_sample = 0.0
    cpu0, start = cpu_seconds(pid), time.monotonic()
    try:
        while (now := time.monotonic()) < start + seconds:
            due = int((now - start) * total_rate)
            while written < due:
                line = b"[12:00:00] [Server thread/INFO]: <Steve> n=%d written=%.6f\n" % (
                    written,
                    time.time(),
                )
                files[written % len(files)].write(line)
                written += 1
            if now >= next_sample:
                peak_rss = max(peak_rss, rss_mb(pid))
                peak_files = max(peak_files, open_files(pid))
                next_sample = now + 1.0
            pause = 1.0 / total_rate if total_rate else 0.2
            time.sleep(min(pause, max(0.0, next_sample - time.monotonic()), 0.2))
        cpu = cpu_seconds(pid) - cpu0
        elapsed = time.monotonic() - start
    finally:
        for file in files:
            file.close()
    return {
        "servers": case.servers,
        "lines_per_s": total_rate,
        "seconds": round(elapsed, 1),
        "cpu_pct_of_core": round(100 * cpu / elapsed, 2),
        "cpu_us_per_line": round(1e6 * cpu / written, 1) if written else None,
        "rss_mb_peak": round(peak_rss, 1),
        "open_files_peak": int(peak_files),
        "written_count": written,
    }


def arrivals(rx: Receiver, written: int, deadline: float) -> dict[str, object]:
    """Wait (bounded) for every line; each once; the write -> arrival latencies."""
    end = time.monotonic() + deadline
    while rx.state.accepted_total < written and time.monotonic() < end:
        time.sleep(0.1)
    messages = list(rx.state.messages or [])
    latencies = []
    seen: dict[int, int] = {}
    for _, message, arrived in messages:
        match = _WRITTEN.search(message)
        if match:
            number = int(match[1])
            seen[number] = seen.get(number, 0) + 1
            latencies.append((arrived - float(match[2])) * 1000)
    result: dict[str, object] = {
        "written": written,
        "arrived": len(seen),
        "missing": written - len(set(seen) & set(range(written))),
        "repeated": sum(count - 1 for count in seen.values()),
    }
    if latencies:
        latencies.sort()
        result["latency_ms_p50"] = round(statistics.median(latencies), 1)
        result["latency_ms_p99"] = round(latencies[int(0.99 * (len(latencies) - 1))], 1)
        result["latency_ms_max"] = round(latencies[-1], 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", choices=[*CASES, "all"], default="all")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring")
    args = parser.parse_args()
    names = list(CASES) if args.case == "all" else [args.case]
    for name in names:
        print(json.dumps(run_case(name, CASES[name], args.seconds, args.warmup)), flush=True)


if __name__ == "__main__":
    main()
