"""Reading one whole log file into entries: the one reader behind ``parse``, ``backfill``
and the tailer's catch-up of rolled files.

* :class:`LogStream` opens a file's bytes, plain or gzip (recognised by its magic bytes,
  not its name), read in chunks, never the whole file in memory, with its first bytes
  (:attr:`LogStream.head`) at hand for the fingerprint that identifies it.
* :class:`EntryFeed` feeds the stream, from the reader's start offset to its end, into an
  :class:`~agent.parse.reader.EntryReader` and hands on each batch of entries with the
  checkpoint offset it completes. It works in bounded steps (:meth:`EntryFeed.step`):
  ``parse`` and ``backfill`` loop it to the end, the tailer gives it a budget per pass so
  one big rolled file does not starve the other servers.
* :func:`gzip_damage` checks a gzip file to its end before anything of it is trusted.
* :func:`date_from_mtime` dates a file read after the fact (a ``latest.log`` of a stopped
  server): the date of its first line, counted back from its mtime (shared/PARSING.md,
  "Time"; the rule is agent/parse/dates.py's). It reads the file once more, without
  parsing (a regex over the bytes: ~40 MB/s against parsing's ~8 MB/s on one loaded
  core, so about a fifth more for a file without a date in its name); a file whose first
  64 KiB hold no time-only line (its lines carry full dates) is not read further.

Errors: whatever fails while reading the stream is :data:`READ_ERRORS`; :class:`EntryFeed`
hands on what was read before it (``finish()``, a partial last line included) and raises
:class:`ReadError`, whose ``cause`` each caller words its own way (:func:`describe` says
what went wrong without saying what the caller was doing).

A gzip file *cut short* (log4j2 was compressing it when the server died, a copy stopped
half way: the deflate stream ends before its end marker) is not damage: everything before
the cut decompresses to the real lines. Its :class:`ReadError` says so
(:attr:`ReadError.cut_short`), and every caller ships what was read, counts the file as
cut short and reports it: ``parse`` and ``backfill`` with a warning, the tailer's
catch-up with a ``file.cut_short`` log line. What was after the cut is not in the file.
"""

from __future__ import annotations

import gzip
import logging
import zlib
from collections import deque
from collections.abc import Callable, Iterable
from datetime import date, datetime, tzinfo
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from agent import events
from agent.errors import SourceError
from agent.model import Entry
from agent.parse.dates import DayCounter, start_date_from_end
from agent.parse.fingerprint import FINGERPRINT_BYTES, fingerprint
from agent.parse.reader import EntryReader

log = logging.getLogger(__name__)

CHUNK_BYTES = 256 * 1024
GZIP_MAGIC = b"\x1f\x8b"
READ_ERRORS = (OSError, EOFError, zlib.error)  # gzip.BadGzipFile is an OSError

OnEntries = Callable[[list[Entry], int], None]  # entries, the checkpoint offset they complete


def describe(exc: BaseException) -> str:
    """What went wrong, in a few words: the OS's text (``No such file or directory``), else
    the exception's message, else its type."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


class ReadError(SourceError):
    """Reading a stream failed at ``offset`` (of the decompressed stream); ``cause`` says why."""

    def __init__(self, cause: BaseException, offset: int) -> None:
        super().__init__(describe(cause))
        self.cause = cause
        self.offset = offset

    @property
    def cut_short(self) -> bool:
        """True for a gzip stream that ends before its end marker (only gzip raises
        EOFError here): what was read before ``offset`` is the file's real content."""
        return isinstance(self.cause, EOFError)


class LogStream:
    """A file's (decompressed) bytes in chunks, with its head read on opening.

    The head costs nothing extra: the chunks it was read from are handed out first.
    ``chunk_bytes`` is the size of each read (of the file, or of decompressed output).
    ``position`` is the offset, in the decompressed stream, of the next byte handed out.
    """

    def __init__(self, raw: BinaryIO, *, chunk_bytes: int = CHUNK_BYTES) -> None:
        """Take over ``raw`` (closed by :meth:`close`) and read its head.

        Raises ReadError if the first bytes cannot be read or decompressed.
        """
        self.raw = raw
        self.name = str(getattr(raw, "name", "<stream>"))  # for the debug log
        self._chunk_bytes = chunk_bytes
        self.position = 0
        self._held: deque[bytes] = deque()
        self.cut: EOFError | None = None  # a gzip cut short inside its head: raised after it
        try:
            first = raw.read(chunk_bytes)
            self.compressed = first[:2] == GZIP_MAGIC
            self._next = self._gzip_chunks(first) if self.compressed else self._plain_chunks
            if first and not self.compressed:
                self._held.append(first)
            held = sum(map(len, self._held))
            while held < FINGERPRINT_BYTES and (chunk := self._next()):
                self._held.append(chunk)
                held += len(chunk)
        except EOFError as exc:
            self.cut = exc  # a short .gz: its readable head is still handed out, then this
        except READ_ERRORS as exc:
            raise ReadError(exc, 0) from exc
        self.head = b"".join(self._held)[:FINGERPRINT_BYTES]

    @property
    def fingerprint(self) -> str:
        """The identity of the file (agent/parse/fingerprint.py); check ``head`` is not empty."""
        return fingerprint(self.head)

    def read(self) -> bytes:
        """The next chunk (b"" at the end); raises READ_ERRORS as the file's reads do."""
        if self._held:
            chunk = self._held.popleft()
        elif self.cut is not None:
            raise self.cut
        else:
            chunk = self._next()
        if chunk and log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s: read %d bytes of %s at offset %d",
                events.FILE_READ,
                len(chunk),
                self.name,
                self.position,
            )
        self.position += len(chunk)
        return chunk

    def skip_to(self, offset: int) -> None:
        """Jump forward to ``offset`` where the stream allows it (a plain, seekable file);
        otherwise the bytes before it are read and dropped by the caller."""
        held = sum(map(len, self._held))
        if self.compressed or offset <= self.position + held or not self.raw.seekable():
            return
        end = self.raw.seek(0, 2)
        self._held.clear()
        self.position = self.raw.seek(min(offset, end))

    def close(self) -> None:
        """Close the file."""
        self.raw.close()

    def __enter__(self) -> LogStream:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _plain_chunks(self) -> bytes:
        return self.raw.read(self._chunk_bytes)

    def _gzip_chunks(self, first: bytes) -> Callable[[], bytes]:
        unzipped = gzip.GzipFile(fileobj=_Prepend(first, self.raw), mode="rb")

        def read() -> bytes:
            return unzipped.read1(self._chunk_bytes)  # read1: what came before an error

        return read


def open_log(path: str | PathLike[str], *, chunk_bytes: int = CHUNK_BYTES) -> LogStream:
    """Open ``path`` as a :class:`LogStream` (``chunk_bytes``: see :class:`LogStream`).

    Raises OSError if it cannot be opened, ReadError if its first bytes cannot be read.
    """
    raw = open(path, "rb")  # noqa: PTH123, SIM115 (argv str or Path; closed by the stream)
    try:
        stream = LogStream(raw, chunk_bytes=chunk_bytes)
        log.debug(
            "%s: opened %s (%s)", events.FILE_READ, path, "gzip" if stream.compressed else "plain"
        )
        return stream
    except ReadError:
        raw.close()
        raise


class EntryFeed:
    """Feeds one :class:`LogStream` to an :class:`EntryReader`, from the reader's start
    offset to the end of the stream, handing on every batch with its checkpoint.

    The checkpoint of a batch is the end of its last entry (the reader's committed
    offset); the last batch, once the stream ended, completes the stream: its checkpoint
    is the stream's end. A stream with nothing after the start offset hands on nothing
    at its end (nothing was read, so nothing is finished).
    """

    def __init__(
        self,
        stream: LogStream,
        reader: EntryReader,
        on_entries: OnEntries,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.stream = stream
        self.reader = reader
        self.start = reader.committed_offset
        self._on_entries = on_entries
        self._clock = clock
        self.done = False
        stream.skip_to(self.start)

    @property
    def position(self) -> int:
        """Offset in the (decompressed) stream of the next byte to read."""
        return self.stream.position

    def step(self, budget: int = CHUNK_BYTES) -> bool:
        """Read about ``budget`` bytes (at least one chunk); False once the stream ended.

        At the end the reader's pending entry is released (``finish()``). On a read error
        what was read before it is released too, then ReadError is raised.
        """
        while not self.done and budget > 0:
            chunk = self._read()
            if not chunk:
                self.done = True
                if self.position > self.start:
                    self._on_entries(self.reader.finish(), self.position)
                break
            budget -= len(chunk)
            data = self._after_start(chunk)
            if data:
                now = self._clock() if self._clock is not None else 0.0
                self._on_entries(self.reader.feed(data, now), self.reader.committed_offset)
        return not self.done

    def run(self) -> None:
        """Read to the end of the stream (ReadError as :meth:`step`)."""
        while self.step():
            pass

    def _read(self) -> bytes:
        try:
            return self.stream.read()
        except READ_ERRORS as exc:
            self.done = True
            self._on_entries(self.reader.finish(), self.reader.committed_offset)
            raise ReadError(exc, self.position) from exc

    def _after_start(self, chunk: bytes) -> bytes:
        """The part of ``chunk`` (just read) at or after the start offset."""
        begin = self.position - len(chunk)
        if begin >= self.start:
            return chunk
        return chunk[self.start - begin :] if self.position > self.start else b""


def gzip_damage(raw: BinaryIO) -> Exception | None:
    """Why a gzip file's content cannot be trusted (None: not gzip, sound, or only cut short).

    A damaged deflate stream can decompress into garbage that only the CRC at the end of
    the member exposes, so a caller that must not hand on garbage checks the file to its
    end first (decompressing costs ~1 µs a line, parsing ~17). A file merely cut short
    (EOFError: log4j2 was compressing when the server died) holds real lines up to the
    cut: those can be read. ``raw`` is left at offset 0.
    """
    if raw.read(2) != GZIP_MAGIC:
        raw.seek(0)
        return None
    raw.seek(0)
    try:
        with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
            while stream.read1(4 * CHUNK_BYTES):
                pass
    except EOFError:
        pass
    except (OSError, zlib.error) as exc:
        return exc
    finally:
        raw.seek(0)
    return None


def start_date_of(chunks: Iterable[bytes], mtime: float, zone: tzinfo) -> date:
    """The date of the first line of ``chunks`` (the bytes to be parsed), counted back
    from ``mtime``, when the last of them was written (see :func:`date_from_mtime`)."""
    counter = DayCounter()
    for chunk in chunks:
        counter.feed(chunk)
        if counter.gave_up:
            break
    counter.finish()
    return start_date_from_end(counter, datetime.fromtimestamp(mtime, zone))


def date_from_mtime(path: str | PathLike[str], start: int, zone: tzinfo) -> date | None:
    """The date of the first line at or after ``start`` of a file read after the fact,
    from its mtime and the midnights its lines cross; None if it cannot be read (the
    reader then falls back to the clock, and the read itself reports the error)."""
    try:
        mtime = Path(path).stat().st_mtime
        with open_log(path) as stream:
            stream.skip_to(start)
            return start_date_of(_chunks_from(stream, start), mtime, zone)
    except (ReadError, *READ_ERRORS) as exc:
        log.debug("cannot date %s from its mtime: %s", path, describe(exc))
        return None


def _chunks_from(stream: LogStream, start: int) -> Iterable[bytes]:
    """The stream's chunks from ``start`` on; a gzip file cut short ends where it was cut."""
    while True:
        try:
            chunk = stream.read()
        except EOFError:
            return
        if not chunk:
            return
        begin = stream.position - len(chunk)
        if stream.position > start:
            yield chunk[max(0, start - begin) :]


class _Prepend:
    """A read-only file object: ``head`` followed by the rest of ``stream``."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        if self._head:
            if size < 0 or size >= len(self._head):
                data, self._head = self._head, b""
                rest = self._stream.read(-1 if size < 0 else size - len(data))
                return data + rest
            data, self._head = self._head[:size], self._head[size:]
            return data
        return self._stream.read(size)
