"""Reading one old log file for a backfill: identity, resume offset, entries with checkpoints.

A file is known by the fingerprint of its first bytes, decompressed for ``.gz`` (the same
identity the tailer uses, agent/parse/fingerprint.py), so a checkpoint saved by the daemon while
the file was ``latest.log`` is found under the file's rolled, gzipped name. Reading starts
at the saved offset: at the end of the stream the file is done (skipped as already
shipped), inside it the rest is read. The file is streamed in chunks (plain or gzip by
its magic bytes, as ``parse`` does), so memory does not depend on its size.
"""

from __future__ import annotations

import gzip
import os
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from agent.backfill.files import date_hint
from agent.errors import SourceError
from agent.model import Entry
from agent.parse.fingerprint import fingerprint
from agent.parse.reader import EntryReader, ReaderOptions, ServerContext
from agent.sources.files import read_chunks, with_head

_READ_ERRORS = (OSError, EOFError, zlib.error)  # gzip.BadGzipFile is an OSError
_GZIP_MAGIC = b"\x1f\x8b"
CHECK_CHUNK_BYTES = 1024 * 1024

StartOffset = Callable[[str, bytes], int | None]  # (fingerprint, head) -> start; None: skip
OnEntries = Callable[[list[Entry], int], None]  # entries, checkpoint offset they complete
OnProgress = Callable[[int], None]  # bytes of the file on disk read so far
SKIP_DAEMON = "left to the daemon (its checkpoint is in this file or before it)"


@dataclass(frozen=True, slots=True)
class ReadSettings:
    """What every file of one backfill is read with (picklable: sent to worker processes)."""

    server_id: str
    options: ReaderOptions


@dataclass(slots=True)
class FileResult:
    """What reading one file did."""

    path: Path
    size: int = 0  # bytes on disk
    fingerprint: str | None = None
    start_offset: int = 0
    end_offset: int = 0  # bytes of the (decompressed) stream
    lines: int = 0
    entries: int = 0  # parsed after the start offset (filled by callers)
    filtered: int = 0  # of those, not sent by decision (filled by callers)
    skipped: bool = False  # everything was already shipped
    skip_reason: str | None = None
    error: str | None = None
    tags: dict[str, int] = field(default_factory=dict)  # entries by tag (filled by callers)


def read_file(
    path: Path,
    settings: ReadSettings,
    *,
    start_offset: StartOffset,
    on_entries: OnEntries,
    on_progress: OnProgress | None = None,
    context: ServerContext | None = None,
) -> FileResult:
    """Read ``path`` from its saved offset to its end, handing on entries as they complete.

    Never raises for a file that cannot be read: the result's ``error`` says why (the
    entries read before the error were handed on, with their checkpoint).
    """
    result = FileResult(path)
    try:
        with path.open("rb") as raw:
            result.size = os.fstat(raw.fileno()).st_size
            damage = gzip_damage(raw)
            if damage is not None:
                result.error = damage
                return result
            _read_stream(raw, result, settings, start_offset, on_entries, on_progress, context)
    except SourceError as exc:
        result.error = str(exc)
    except BrokenPipeError:
        raise  # writing the output failed, not reading: the caller stops
    except OSError as exc:  # open() failed
        result.error = exc.strerror or str(exc)
    return result


def _read_stream(
    raw: BinaryIO,
    result: FileResult,
    settings: ReadSettings,
    start_offset: StartOffset,
    on_entries: OnEntries,
    on_progress: OnProgress | None,
    context: ServerContext | None,
) -> None:
    reader: EntryReader | None = None
    position = 0
    try:
        head, chunks = with_head(read_chunks(raw))
        if not head:
            result.skipped = True  # empty: nothing to ship, no identity
            return
        result.fingerprint = fingerprint(head)
        start = start_offset(result.fingerprint, head)
        if start is None:
            result.skipped = True  # the caller decided (e.g. the daemon's file)
            return
        offset = result.start_offset = start
        reader = EntryReader(
            server_id=settings.server_id,
            fingerprint=result.fingerprint,
            start_offset=offset,
            options=settings.options,
            date_hint=date_hint(result.path),
            clock=time.time,
            context=context,
        )
        for chunk in chunks:
            end = position + len(chunk)
            if end > offset:
                data = chunk if position >= offset else chunk[offset - position :]
                on_entries(reader.feed(data), reader.committed_offset)
            position = end
            if on_progress is not None:
                on_progress(raw.tell())
    except BrokenPipeError:
        raise
    except _READ_ERRORS as exc:
        result.end_offset = max(position, result.start_offset)
        _finish(reader, result, on_entries)
        raise SourceError(_reason(exc)) from exc
    result.end_offset = position
    if position <= result.start_offset:
        result.skipped = True
        return
    _finish(reader, result, on_entries, end=position)


def gzip_damage(raw: BinaryIO) -> str | None:
    """Why a gzip file's content cannot be trusted (None: not gzip, sound, or only cut short).

    A damaged deflate stream can decompress into garbage that only the CRC at the end of
    the member exposes, so a gzip file is checked to its end before anything is read from
    it (decompressing costs ~1 µs a line, parsing ~17). A file merely cut short (EOFError:
    log4j2 was compressing when the server died) holds real lines up to the cut: those
    are read, and the file is then reported as failed.
    """
    if raw.read(2) != _GZIP_MAGIC:
        raw.seek(0)
        return None
    raw.seek(0)
    try:
        with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
            while stream.read1(CHECK_CHUNK_BYTES):
                pass
    except EOFError:
        pass
    except (OSError, zlib.error) as exc:
        return f"corrupt gzip ({exc}); nothing read from it"
    finally:
        raw.seek(0)
    return None


def _finish(
    reader: EntryReader | None, result: FileResult, on_entries: OnEntries, end: int | None = None
) -> None:
    """Release what is pending; a finished stream's checkpoint is its end."""
    if reader is None:
        return
    entries = reader.finish()
    on_entries(entries, end if end is not None else reader.committed_offset)
    result.lines = reader.stats.lines


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"cannot read: {exc.strerror}"
    return f"cannot read: {exc or type(exc).__name__}"
