"""``backfill --dry-run``: the API bodies as JSON lines on stdout, in chronological order.

With more than one job, a process pool parses several files at once. Each worker writes
its file's bodies to a private temporary file (mode 0600, in a 0700 directory that is
removed at the end); the parent copies those files to stdout strictly in file order, so
the output is the same as with one job and memory stays bounded: at most ``2 x jobs``
files' output waits on disk, never in memory. Nothing else is written: no spool, no
checkpoint, no state.

The cost of parallel files: the per-server UUID memory (:class:`ServerContext`) is per
worker, so a player's UUID learnt in one file enriches later files only within the same
worker. One job keeps it exact.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import BinaryIO

from agent.backfill.encode import EncodeSettings
from agent.backfill.reading import FileResult, ReadSettings, read_file
from agent.backfill.summary import Totals, count_encoded
from agent.metrics import Metrics
from agent.model import Entry
from agent.parse.reader import ServerContext

OnFile = Callable[[FileResult], None]


def print_file(
    path: Path,
    read: ReadSettings,
    encode: EncodeSettings,
    out: BinaryIO,
    context: ServerContext | None = None,
) -> FileResult:
    """Parse one whole file and write the bodies that pass the filter to ``out``."""
    metrics = Metrics()
    encoder = encode.encoder(metrics)
    parsed = 0

    def on_entries(entries: list[Entry], _checkpoint: int) -> None:
        nonlocal parsed
        if not entries:
            return
        parsed += len(entries)
        out.write(encoder.encode_lines(entries))

    result = read_file(path, read, start_offset=_from_start, on_entries=on_entries, context=context)
    result.entries = parsed
    count_encoded(result, metrics)
    return result


def _from_start(_fingerprint: str, _head: bytes) -> int:
    return 0  # a dry run ships nothing, so it prints everything


def run_dry(
    paths: list[Path],
    read: ReadSettings,
    encode: EncodeSettings,
    out: BinaryIO,
    totals: Totals,
    *,
    jobs: int,
    on_file: OnFile,
) -> None:
    """Print every file's bodies in order; count into ``totals``; ``on_file`` after each."""
    if jobs <= 1 or len(paths) <= 1:
        context = ServerContext()
        for path in paths:
            result = print_file(path, read, encode, out, context)
            totals.add_file(result)
            on_file(result)
        return
    _run_pool(paths, read, encode, out, totals, jobs=jobs, on_file=on_file)


def _run_pool(
    paths: list[Path],
    read: ReadSettings,
    encode: EncodeSettings,
    out: BinaryIO,
    totals: Totals,
    *,
    jobs: int,
    on_file: OnFile,
) -> None:
    lookahead = 2 * jobs
    with (
        tempfile.TemporaryDirectory(prefix="serverops-backfill-") as scratch,
        ProcessPoolExecutor(max_workers=jobs, initializer=_ignore_sigint) as pool,
    ):
        queued: deque[tuple[Future[FileResult], Path]] = deque()
        upcoming = iter(enumerate(paths))
        try:
            for index, path in upcoming:
                output = Path(scratch) / f"{index:06d}.jsonl"
                queued.append((pool.submit(_print_to_file, path, read, encode, output), output))
                if len(queued) >= lookahead:
                    _emit(*queued.popleft(), out, totals, on_file)
            while queued:
                _emit(*queued.popleft(), out, totals, on_file)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _emit(
    future: Future[FileResult], output: Path, out: BinaryIO, totals: Totals, on_file: OnFile
) -> None:
    """Wait for one file's worker, copy its output to ``out``, remove it, count it."""
    result = future.result()
    with output.open("rb") as produced:
        shutil.copyfileobj(produced, out, 1024 * 1024)
    output.unlink()
    totals.add_file(result)
    on_file(result)


def _print_to_file(
    path: Path, read: ReadSettings, encode: EncodeSettings, output: Path
) -> FileResult:
    """Worker process: one file's bodies into ``output`` (created 0600)."""
    with output.open("xb", buffering=1024 * 1024) as out:
        output.chmod(0o600)
        return print_file(path, read, encode, out)


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the parent, which stops the pool in order."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
