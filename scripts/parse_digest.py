"""Digest of ``serverops-agent parse`` output per file, to prove a change leaves it byte-identical.

Runs the installed ``serverops-agent parse`` on every log of ``../shared/corpus`` (recursively)
and ``examples/logs`` (each file alone, fixed date, timezone and server id, with
``--raw-line`` so the raw text is compared too) and prints one ``sha256  entries  path`` line
per file. Compare two runs with ``diff``:

    python scripts/parse_digest.py > /tmp/before.txt
    # ... change the code ...
    python scripts/parse_digest.py > /tmp/after.txt && diff /tmp/before.txt /tmp/after.txt
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIRS = (ROOT.parent / "shared" / "corpus", ROOT / "examples" / "logs")
LOG_SUFFIXES = (".log", ".gz")
DATED_NAME = re.compile(r"\d{4}-\d\d-\d\d-\d+\.log(?:\.gz)?$")


def log_files(dirs: list[Path]) -> list[Path]:
    """Every log file under ``dirs``, sorted, so two runs list them in the same order."""
    found: list[Path] = []
    for folder in dirs:
        if folder.is_dir():
            found.extend(p for p in folder.rglob("*") if p.is_file() and p.suffix in LOG_SUFFIXES)
    return sorted(found)


def digest(agent: str, path: Path, *, with_date: bool) -> tuple[str, int]:
    """sha256 and line count of ``parse`` output for one file (stderr folded in)."""
    command = [agent, "parse", str(path), "--server-id", "digest", "--timezone", "UTC"]
    command.append("--raw-line")
    if with_date:
        command += ["--date", "2026-01-01"]
    done = subprocess.run(command, capture_output=True, check=False)
    out = done.stdout + b"\n--stderr--\n" + done.stderr + f"\nexit {done.returncode}".encode()
    return hashlib.sha256(out).hexdigest(), done.stdout.count(b"\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", type=Path, default=list(DEFAULT_DIRS))
    args = parser.parse_args()
    agent = shutil.which("serverops-agent") or str(Path(sys.executable).parent / "serverops-agent")
    for path in log_files(args.dirs):
        # With a fixed --date, and, for a rolled file, also with the date its name gives.
        # latest.log without --date is dated by the clock (a line ahead of now is
        # yesterday's), so its output moves with the time of day: not compared that way.
        for with_date in (True,) if DATED_NAME.search(path.name) is None else (False, True):
            sha, count = digest(agent, path, with_date=with_date)
            label = (
                path.relative_to(path.anchor)
                if not path.is_relative_to(ROOT.parent)
                else (path.relative_to(ROOT.parent))
            )
            print(f"{sha}  {count:7d}  {'--date ' if with_date else ''}{label}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
