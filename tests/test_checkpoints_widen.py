"""A short file's checkpoint rows: one row per file, not one per line it grew by.

A file shorter than the 4 KiB a fingerprint covers gets a wider fingerprint as it grows
(agent/parse/fingerprint.py), so each checkpoint it completed used to be a new row that
nothing removed. The tailer, on the real SQLite spool, line by line as a server writes.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from agent.encode.encoder import EntryEncoder
from agent.encode.filters import EntryFilter
from agent.metrics import Metrics
from agent.parse.reader import ReaderOptions
from agent.sources.tail import ReadFrom, ServerSource, Tailer
from agent.state.sinks import SpoolSink
from agent.state.spool import Spool, SpoolOptions


def line(n: int) -> bytes:
    return b"[10:00:%02d] [Server thread/INFO]: <Steve> message %04d\n" % (n % 60, n)


def follow_line_by_line(tmp_path: Path, lines: int, *, truncate_at: int | None = None) -> Spool:
    """Write ``lines`` lines one by one, with one tailer pass after each (its entry is
    released by the idle flush at once); truncate the file after ``truncate_at`` lines."""
    log = tmp_path / "logs" / "latest.log"
    log.parent.mkdir()
    log.write_bytes(b"")
    spool = Spool(SpoolOptions(tmp_path / "spool.sqlite3"))
    sink = SpoolSink(spool, EntryEncoder(EntryFilter.create(), Metrics()))
    source = ServerSource("s1", log, ReadFrom.BEGINNING, ReaderOptions(idle_flush_seconds=0.0))
    tailer = Tailer([source], sink, spool, use_inotify=False)
    tailer.open()
    try:
        for n in range(lines):
            if n == truncate_at:
                log.write_bytes(b"")  # copytruncate: the old content lives on in a copy
            with log.open("ab") as file:
                file.write(line(n))
            for _ in range(3):  # read the line, then release it by the idle flush
                tailer.look_at_all()
                tailer.run_pass()
    finally:
        tailer.close()
    return spool


def rows(spool: Spool) -> list[tuple[str, int]]:
    with sqlite3.connect(spool.options.path) as db:
        return db.execute("SELECT fingerprint, offset FROM checkpoints ORDER BY updated").fetchall()


def test_a_file_growing_past_4_kib_line_by_line_keeps_one_checkpoint_row(tmp_path: Path) -> None:
    spool = follow_line_by_line(tmp_path, 120)  # 120 * 50 bytes: past 4 KiB
    assert spool.stats().depth == 120
    (fingerprint, offset), *others = rows(spool)
    spool.close()
    assert others == []
    assert ":" not in fingerprint  # a full-length fingerprint
    assert offset == 120 * len(line(0))


def test_a_truncated_file_keeps_the_old_contents_row(tmp_path: Path) -> None:
    """After copytruncate the old row identifies the rotated copy: it is not replaced."""
    spool = follow_line_by_line(tmp_path, 20, truncate_at=10)
    stored = rows(spool)
    spool.close()
    assert len(stored) == 2
    assert stored[0][1] == 10 * len(line(0))  # the old content, read to its end
    assert stored[1][1] == 10 * len(line(0))  # the new content: ten lines again
