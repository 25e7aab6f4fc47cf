"""Rolled files of a followed path, their order and opening (agent/sources/tail/discovery.py),
and where "read from end" starts in the live file (agent/sources/tail/live.py)."""

from __future__ import annotations

import gzip
import os
from datetime import date
from pathlib import Path

from agent.sources.tail.discovery import RotatedFile, open_rotated, read_head, rotated_files
from agent.sources.tail.live import line_start_near_end


def touch(path: Path, data: bytes = b"x\n") -> Path:
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


class TestRotatedFiles:
    def test_dated_files_oldest_first_by_date_then_number(self, tmp_path: Path) -> None:
        """YYYY-MM-DD-N sorts by date, then numerically by N (10 after 9)."""
        for name in ("2026-11-21-10.log.gz", "2026-11-21-9.log.gz", "2026-11-20-3.log.gz"):
            touch(tmp_path / name)
        touch(tmp_path / "latest.log")
        names = [r.path.name for r in rotated_files(tmp_path / "latest.log")]
        assert names == ["2026-11-20-3.log.gz", "2026-11-21-9.log.gz", "2026-11-21-10.log.gz"]

    def test_plain_file_preferred_while_gzip_runs(self, tmp_path: Path) -> None:
        """While both .log and .log.gz of one roll exist, the complete plain file is used."""
        touch(tmp_path / "2026-11-21-1.log")
        (tmp_path / "2026-11-21-1.log.gz").write_bytes(b"\x1f\x8b")  # half written
        assert [r.path.name for r in rotated_files(tmp_path / "latest.log")] == ["2026-11-21-1.log"]

    def test_other_names_ignored(self, tmp_path: Path) -> None:
        """Unrelated files in logs/ (debug.log, crash reports) are not rolled files."""
        for name in ("debug.log", "debug-1.log.gz", "2026-11-21.log", "latest.log.bak"):
            touch(tmp_path / name)
        assert rotated_files(tmp_path / "latest.log") == []

    def test_proxy_log_higher_number_is_older(self, tmp_path: Path) -> None:
        """proxy.log.0 is current; .1 is the newest rolled file; lock files are ignored."""
        for name in ("proxy.log.0", "proxy.log.1", "proxy.log.2", "proxy.log.0.lck"):
            touch(tmp_path / name)
        names = [r.path.name for r in rotated_files(tmp_path / "proxy.log.0")]
        assert names == ["proxy.log.2", "proxy.log.1"]

    def test_server_log_is_never_rotated(self, tmp_path: Path) -> None:
        """Pre-1.7 server.log has no rolled siblings."""
        touch(tmp_path / "server.log")
        touch(tmp_path / "server.log.1")
        assert rotated_files(tmp_path / "server.log") == []

    def test_rolled_files_carry_the_date_of_their_name(self, tmp_path: Path) -> None:
        """A dated rolled file carries its name's date (its time-only lines' day); a
        size-rolled one has none."""
        touch(tmp_path / "2026-11-20-3.log.gz")
        touch(tmp_path / "proxy.log.1")
        assert [r.day for r in rotated_files(tmp_path / "latest.log")] == [date(2026, 11, 20)]
        assert [r.day for r in rotated_files(tmp_path / "proxy.log.0")] == [None]

    def test_missing_directory(self, tmp_path: Path) -> None:
        """A log directory that does not exist has no rolled files (no error)."""
        assert rotated_files(tmp_path / "nope" / "latest.log") == []


class TestOpening:
    def test_gz_head_is_decompressed(self, tmp_path: Path) -> None:
        """The head of a .gz file is read from its decompressed stream."""
        rolled = RotatedFile(touch(tmp_path / "2026-11-21-1.log.gz", b"hello\nworld\n"), None)
        assert read_head(rolled, 8) == b"hello\nwo"

    def test_plain_file_deleted_after_listing_falls_back_to_gz(self, tmp_path: Path) -> None:
        """If log4j2 deletes the .log after it was listed, its .gz is opened instead."""
        touch(tmp_path / "2026-11-21-1.log.gz", b"data\n")
        with open_rotated(RotatedFile(tmp_path / "2026-11-21-1.log", None)) as stream:
            assert stream.read() == b"data\n"

    def test_corrupt_gz_head_is_none(self, tmp_path: Path) -> None:
        """A gzip file (by its magic bytes) that cannot be decompressed has no head (it is
        skipped, not a crash)."""
        bad = tmp_path / "2026-11-21-1.log.gz"
        bad.write_bytes(b"\x1f\x8bnot gzip at all")
        assert read_head(RotatedFile(bad, None), 10) is None

    def test_line_start_near_end(self, tmp_path: Path) -> None:
        """'end' starts after the last complete line, so a partial last line is kept."""
        path = tmp_path / "latest.log"
        path.write_bytes(b"one\ntwo\nthr")
        fd = os.open(path, os.O_RDONLY)
        try:
            assert line_start_near_end(fd, 11) == 8
            assert line_start_near_end(fd, 8) == 8
            assert line_start_near_end(fd, 3) == 0
        finally:
            os.close(fd)
