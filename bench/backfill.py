"""Benchmark of ``serverops-agent backfill`` on generated rolled logs (.log.gz).

    .venv/bin/python bench/backfill.py generate               # 200 files, ~2,000,000 lines
    .venv/bin/python bench/backfill.py dry-run --jobs 2       # lines/s, output to /dev/null
    .venv/bin/python bench/backfill.py dry-run --jobs 1       # single process
    .venv/bin/python bench/backfill.py ship --files 20        # entries/s to bench/receiver.py

Files go to bench/out/backfill/ (git-ignored). Each command runs the real CLI in a child
process and reports wall time, lines/s and the child's peak RSS (``ru_maxrss`` of the
children: the largest of parent and workers).
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "backfill"
TOKEN = "so_test_bench0000000"
PLAYERS = ["Steve", "Alex", "Notch", "jeb_", "Dinnerbone", "Grumm", "xX_Slayer_Xx", "Kiwi"]
CAUSES = ["was slain by Zombie", "fell from a high place", "drowned", "was shot by Skeleton"]


def _message(rnd: random.Random) -> tuple[str, str]:
    """(thread/level, message) in a mix like a busy survival server."""
    player = rnd.choice(PLAYERS)
    roll = rnd.random()
    if roll < 0.45:
        return "Server thread/INFO", f"<{player}> {'hello ' * rnd.randint(1, 8)}there"
    if roll < 0.60:
        return "Server thread/INFO", f"{player} joined the game"
    if roll < 0.72:
        return "Server thread/INFO", f"{player} left the game"
    if roll < 0.80:
        return "Server thread/INFO", f"{player} {rnd.choice(CAUSES)}"
    if roll < 0.86:
        ms = rnd.randint(2000, 9000)
        return (
            "Server thread/WARN",
            f"Can't keep up! Is the server overloaded? Running {ms}ms or {ms // 50} ticks behind",
        )
    if roll < 0.93:
        ip = ".".join(str(rnd.randint(1, 254)) for _ in range(4))
        return (
            "Server thread/INFO",
            f"{player}[/{ip}:{rnd.randint(1024, 65535)}] logged in with entity id "
            f"{rnd.randint(1, 99999)} at ([world]{rnd.uniform(-999, 999):.1f}, 64.0, "
            f"{rnd.uniform(-999, 999):.1f})",
        )
    return "Server thread/INFO", f"{player} has made the advancement [Stone Age]"


def generate(files: int, lines: int, seed: int = 7) -> None:
    """``files`` rolled logs of ``lines`` lines each, several a day with gaps."""
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    rnd = random.Random(seed)
    day, index = date(2026, 1, 1), 1
    for _ in range(files):
        second = rnd.randint(0, 6 * 3600)
        out = []
        for _ in range(lines):
            second = (second + rnd.randint(0, 2)) % 86400
            stamp = f"{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
            thread, message = _message(rnd)
            out.append(f"[{stamp}] [{thread}]: {message}\n")
        name = OUT / f"{day.isoformat()}-{index}.log.gz"
        name.write_bytes(gzip.compress("".join(out).encode(), compresslevel=6))
        if rnd.random() < 0.5:
            index += 1
        else:
            day, index = day + timedelta(days=rnd.choice((1, 1, 2, 5))), 1
    print(f"{files} files, {files * lines:,} lines in {OUT}")


def _children_peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _cli() -> list[str]:
    return [sys.executable, "-m", "agent", "backfill"]


def dry_run(jobs: int, files: int | None) -> None:
    """Time the dry run over the generated set (stdout to /dev/null)."""
    paths = sorted(str(p) for p in OUT.glob("*.log.gz"))[:files]
    lines = sum(_count_lines(Path(p)) for p in paths)
    command = [*_cli(), *paths, "--dry-run", "--timezone", "UTC", "--jobs", str(jobs)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:  # noqa: PTH123
        subprocess.run(command, stdout=sink, stderr=subprocess.DEVNULL, check=True, cwd=ROOT)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(
        f"dry-run jobs={jobs}: {len(paths)} files, {lines:,} lines in {wall:.1f} s = "
        f"{lines / wall:,.0f} lines/s; CPU (user + sys, all processes) {cpu:.1f} s = "
        f"{lines / cpu:,.0f} lines per CPU-second; peak RSS {_children_peak_rss_mb():.0f} MB"
    )


def ship(files: int) -> None:
    """Time a real backfill of ``files`` files into a fresh spool, sent to the receiver."""
    paths = sorted(str(p) for p in OUT.glob("*.log.gz"))[:files]
    lines = sum(_count_lines(Path(p)) for p in paths)
    receiver = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "receiver.py"), "--port", "0", "--token", TOKEN],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert receiver.stdout is not None
        port = int(receiver.stdout.readline())
        with tempfile.TemporaryDirectory() as scratch:
            config = Path(scratch) / "config.toml"
            config.write_text(
                f'[api]\nurl = "http://127.0.0.1:{port}"\ntoken = "{TOKEN}"\nconcurrency = 8\n'
                f'[state]\ndir = "{scratch}/state"\n'
                f'[[servers]]\nid = "bench"\nlog = "{OUT}/latest.log"\ntimezone = "UTC"\n'
            )
            started = time.perf_counter()
            done = subprocess.run(
                [*_cli(), *paths, "--config", str(config)],
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            wall = time.perf_counter() - started
        print(done.stdout)
        print(
            f"ship: {len(paths)} files, {lines:,} entries in {wall:.1f} s = "
            f"{lines / wall:,.0f} entries/s (exit {done.returncode}); "
            f"peak RSS {_children_peak_rss_mb():.0f} MB"
        )
    finally:
        receiver.terminate()
        receiver.wait()


def _count_lines(path: Path) -> int:
    with gzip.open(path, "rb") as stream:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))


def main() -> None:
    """Command line of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate")
    gen.add_argument("--files", type=int, default=200)
    gen.add_argument("--lines", type=int, default=10_000)
    dry = sub.add_parser("dry-run")
    dry.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    dry.add_argument("--files", type=int, default=None)
    shipping = sub.add_parser("ship")
    shipping.add_argument("--files", type=int, default=20)
    args = parser.parse_args()
    if args.command == "generate":
        generate(args.files, args.lines)
    elif args.command == "dry-run":
        dry_run(args.jobs, args.files)
    else:
        ship(args.files)


if __name__ == "__main__":
    main()
