"""At debug level, sources/ logs each file it opens and each read, with bytes and offsets."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

from test_tail_follower import Agent

from agent import events
from agent.sources.files import open_log
from agent.sources.tail.source import ReadFrom

LINE = b"[10:00:00] [Server thread/INFO]: <Steve> hello\n"


def reads(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(events.FILE_READ)]


def test_whole_file_reader_logs_open_and_reads(tmp_path: Path, caplog) -> None:
    """open_log names the file and its kind; every chunk read gives its size and offset."""
    path = tmp_path / "2026-11-01-1.log.gz"
    path.write_bytes(gzip.compress(LINE * 100))
    with (
        caplog.at_level(logging.DEBUG, logger="agent.sources"),
        open_log(path, chunk_bytes=2048) as stream,
    ):
        while stream.read():
            pass
    messages = reads(caplog)
    assert messages[0] == f"{events.FILE_READ}: opened {path} (gzip)"
    assert f"{events.FILE_READ}: read 2048 bytes of {path} at offset 0" in messages
    assert f"{events.FILE_READ}: read 2048 bytes of {path} at offset 2048" in messages


def test_live_file_logs_open_and_reads(tmp_path: Path, caplog) -> None:
    """The followed file: opened at which offset of how many bytes, then each read."""
    log = tmp_path / "logs" / "latest.log"
    log.parent.mkdir()
    log.write_bytes(LINE * 3)
    agent = Agent(log, ReadFrom.BEGINNING)
    with caplog.at_level(logging.DEBUG, logger="agent.sources"):
        agent.start()
        while agent.follower is not None and agent.follower.step():
            pass
    messages = reads(caplog)
    assert f"{events.FILE_READ}: opened {log} at offset 0 of {3 * len(LINE)} bytes" in messages[0]
    assert f"{events.FILE_READ}: read {3 * len(LINE)} bytes of {log} at offset 0" in messages


def test_nothing_at_info(tmp_path: Path, caplog) -> None:
    """At info level the reads are not logged (they are per chunk)."""
    path = tmp_path / "a.log"
    path.write_bytes(LINE)
    with caplog.at_level(logging.INFO), open_log(path) as stream:
        stream.read()
    assert reads(caplog) == []
