"""The one whole-file reader (agent/sources/files.py): plain and gzip streams, start offsets,
damage and read errors, with real files in a temporary directory."""

from __future__ import annotations

import errno
import gzip
import io
import zlib
from pathlib import Path

import pytest
from tail_writer import counter_of, mc_line

from agent.model import Entry
from agent.parse.fingerprint import fingerprint
from agent.parse.reader import EntryReader
from agent.sources.files import (
    EntryFeed,
    LogStream,
    ReadError,
    describe,
    gzip_damage,
    open_log,
)

LINES = b"".join(mc_line(n) for n in range(2000))  # ~100 KB: several chunks, head > 4 KiB


class Handed:
    """What a feed handed on: every batch with its checkpoint offset."""

    def __init__(self) -> None:
        self.batches: list[tuple[list[Entry], int]] = []

    def __call__(self, entries: list[Entry], offset: int) -> None:
        self.batches.append((entries, offset))

    @property
    def counters(self) -> list[int]:
        return [counter_of(e.line) for entries, _ in self.batches for e in entries]

    @property
    def entries(self) -> list[Entry]:
        return [e for entries, _ in self.batches for e in entries]

    @property
    def last_checkpoint(self) -> int:
        return self.batches[-1][1]


def read_all(stream: LogStream, start: int = 0) -> tuple[Handed, EntryFeed]:
    """Feed ``stream`` from ``start`` to its end."""
    handed = Handed()
    reader = EntryReader(server_id="s", fingerprint=stream.fingerprint, start_offset=start)
    feed = EntryFeed(stream, reader, handed)
    feed.run()
    return handed, feed


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


class TestPlainAndGzip:
    def test_plain_file_every_entry_once_checkpoint_at_end(self, tmp_path: Path) -> None:
        """A plain file gives each line once, in order; the last checkpoint is its end."""
        with open_log(write(tmp_path / "latest.log", LINES)) as stream:
            assert not stream.compressed
            handed, feed = read_all(stream)
        assert handed.counters == list(range(2000))
        assert handed.last_checkpoint == feed.position == len(LINES)
        assert handed.entries[-1].end == len(LINES)

    def test_gzip_by_magic_bytes_same_entries_and_identity(self, tmp_path: Path) -> None:
        """A gzip file (even without .gz in its name) reads as its decompressed content,
        with the plain file's fingerprint and offsets."""
        with open_log(write(tmp_path / "plain.log", LINES)) as stream:
            plain, _ = read_all(stream)
            plain_print = stream.fingerprint
        with open_log(write(tmp_path / "renamed.log", gzip.compress(LINES))) as stream:
            assert stream.compressed
            assert stream.fingerprint == plain_print == fingerprint(LINES[:4096])
            zipped, feed = read_all(stream)
        assert [(e.offset, e.end, e.line) for e in zipped.entries] == [
            (e.offset, e.end, e.line) for e in plain.entries
        ]
        assert feed.position == len(LINES)

    def test_head_is_the_first_fingerprint_bytes_and_chunks_replay_it(self, tmp_path: Path) -> None:
        """The head is read on opening; the chunks handed out still start at byte 0."""
        path = write(tmp_path / "x.log.gz", gzip.compress(LINES))
        with LogStream(path.open("rb"), chunk_bytes=1000) as stream:
            assert stream.head == LINES[:4096]
            chunks = []
            while chunk := stream.read():
                chunks.append(chunk)
        assert b"".join(chunks) == LINES

    def test_empty_file_has_no_head_and_hands_on_nothing(self, tmp_path: Path) -> None:
        """An empty file has an empty head and its feed hands nothing on."""
        with open_log(write(tmp_path / "empty.log", b"")) as stream:
            assert stream.head == b""
            handed, _ = read_all(stream)
        assert handed.batches == []

    def test_partial_last_line_released_at_end(self, tmp_path: Path) -> None:
        """A last line without its newline is released when the stream ends."""
        with open_log(write(tmp_path / "x.log", mc_line(0) + mc_line(1)[:-1])) as stream:
            handed, feed = read_all(stream)
        assert handed.counters == [0, 1]
        assert handed.last_checkpoint == feed.position


class TestStartOffset:
    @pytest.mark.parametrize("compress", [False, True])
    def test_start_in_the_middle_reads_only_what_follows(
        self, tmp_path: Path, compress: bool
    ) -> None:
        """From a line end in the middle (plain or gzip), exactly the later lines come out,
        with their offsets in the whole stream."""
        start = sum(len(mc_line(n)) for n in range(1234))
        data = gzip.compress(LINES) if compress else LINES
        with open_log(write(tmp_path / "x.log", data)) as stream:
            handed, _ = read_all(stream, start)
        assert handed.counters == list(range(1234, 2000))
        assert handed.entries[0].offset == start

    def test_start_inside_the_head_chunk(self, tmp_path: Path) -> None:
        """A start offset inside the bytes read for the head is honoured too."""
        start = len(mc_line(0)) + len(mc_line(1))
        with open_log(write(tmp_path / "x.log", LINES)) as stream:
            handed, _ = read_all(stream, start)
        assert handed.counters[:2] == [2, 3]

    @pytest.mark.parametrize("compress", [False, True])
    def test_start_at_or_past_the_end_hands_on_nothing(
        self, tmp_path: Path, compress: bool
    ) -> None:
        """Nothing after the start offset: nothing is handed on, not even a finish."""
        data = gzip.compress(LINES) if compress else LINES
        for start in (len(LINES), len(LINES) + 500):
            with open_log(write(tmp_path / "x.log", data)) as stream:
                handed, feed = read_all(stream, start)
            assert handed.batches == []
            assert feed.position == len(LINES)  # the real end, not the asked offset


class TestSteps:
    def test_budgeted_steps_read_a_slice_each(self, tmp_path: Path) -> None:
        """step(budget) reads about the budget, reports more until the end, then False."""
        path = write(tmp_path / "x.log", LINES)
        handed = Handed()
        with LogStream(path.open("rb"), chunk_bytes=10_000) as stream:
            reader = EntryReader(server_id="s", fingerprint=stream.fingerprint)
            feed = EntryFeed(stream, reader, handed)
            positions = []
            while feed.step(budget=10_000):
                positions.append(feed.position)
            assert not feed.step()  # stays done
        assert positions == list(range(10_000, len(LINES), 10_000))
        assert handed.counters == list(range(2000))


class _FailingFile(io.FileIO):
    """A real file whose reads fail with EIO once ``limit`` bytes were read (a bad disk)."""

    def __init__(self, path: Path, limit: int) -> None:
        super().__init__(path, "rb")
        self.limit = limit

    def read(self, size: int = -1) -> bytes:
        if self.tell() >= self.limit:
            raise OSError(errno.EIO, "Input/output error")
        return super().read(min(size, self.limit - self.tell()) if size >= 0 else -1)


class TestErrors:
    def test_read_error_midway_hands_on_what_came_before(self, tmp_path: Path) -> None:
        """EIO mid-way: the entries before it (the partial line too) are handed on, then a
        ReadError says why and where."""
        path = write(tmp_path / "x.log", LINES)
        limit = 50_000  # inside a line
        handed = Handed()
        with LogStream(_FailingFile(path, limit), chunk_bytes=8192) as stream:
            reader = EntryReader(server_id="s", fingerprint=stream.fingerprint)
            feed = EntryFeed(stream, reader, handed)
            with pytest.raises(ReadError) as caught:
                feed.run()
        assert describe(caught.value.cause) == "Input/output error"
        assert caught.value.offset == limit
        assert handed.entries[-1].end == limit  # the cut line, released by finish()
        whole = handed.counters[:-1]
        assert whole == list(range(len(whole)))

    def test_gzip_cut_short_reads_up_to_the_cut_then_fails(self, tmp_path: Path) -> None:
        """A .gz cut short (the server died while compressing) is not damage: its lines up
        to the cut are read, then EOFError ends it."""
        whole = gzip.compress(LINES)
        cut = whole[: len(whole) // 2]
        path = write(tmp_path / "x.log.gz", cut)
        with path.open("rb") as raw:
            assert gzip_damage(raw) is None
            assert raw.tell() == 0
        handed = Handed()
        with open_log(path) as stream:
            reader = EntryReader(server_id="s", fingerprint=stream.fingerprint)
            with pytest.raises(ReadError) as caught:
                EntryFeed(stream, reader, handed).run()
        assert isinstance(caught.value.cause, EOFError)
        assert len(handed.counters) > 100
        assert handed.counters[:100] == list(range(100))

    def test_corrupt_gzip_body_is_damage(self, tmp_path: Path) -> None:
        """Bytes changed inside the deflate stream: gzip_damage reports it (its CRC or the
        deflate data is wrong), a plain file is never damage."""
        data = bytearray(gzip.compress(LINES))
        for i in range(2000, 2100):
            data[i] ^= 0x55
        path = write(tmp_path / "x.log.gz", bytes(data))
        with path.open("rb") as raw:
            damage = gzip_damage(raw)
            assert raw.tell() == 0
        assert isinstance(damage, (OSError, zlib.error))
        with write(tmp_path / "plain.log", LINES).open("rb") as raw:
            assert gzip_damage(raw) is None

    def test_corrupt_gzip_header_fails_on_opening(self, tmp_path: Path) -> None:
        """A gzip header followed by invalid deflate data: opening raises ReadError (the file
        is closed). (A header followed by nothing, or by too little, is a file cut short.)"""
        path = write(tmp_path / "x.log.gz", b"\x1f\x8b\x08\x00" + bytes(6) + b"\xff" * 50)
        with pytest.raises(ReadError) as caught:
            open_log(path)
        assert caught.value.offset == 0

    def test_missing_file_is_an_oserror(self, tmp_path: Path) -> None:
        """A path that cannot be opened raises the OSError itself (callers word it)."""
        with pytest.raises(FileNotFoundError):
            open_log(tmp_path / "nope.log")


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (OSError(errno.ENOENT, "No such file or directory"), "No such file or directory"),
        (EOFError("Compressed file ended"), "Compressed file ended"),
        (zlib.error("invalid stored block lengths"), "invalid stored block lengths"),
        (EOFError(), "EOFError"),
    ],
)
def test_describe(error: BaseException, text: str) -> None:
    """The OS's text for an OSError, else the message, else the exception's type."""
    assert describe(error) == text
