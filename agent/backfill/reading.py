"""Reading one old log file for a backfill: identity, resume offset, entries with checkpoints.

A file is known by the fingerprint of its first bytes, decompressed for ``.gz`` (the same
identity the tailer uses, agent/parse/fingerprint.py), so a checkpoint saved by the daemon while
the file was ``latest.log`` is found under the file's rolled, gzipped name. Reading starts
at the saved offset: at the end of the stream the file is done (skipped as already
shipped), inside it the rest is read. The file is read by agent/sources/files.py (the
reader ``parse`` and the tailer use: plain or gzip by its magic bytes, in chunks, so memory
does not depend on its size). A gzip file is first checked to its end: a damaged one is
reported and nothing of it is shipped (see :func:`agent.sources.files.gzip_damage`). A
gzip file merely cut short is not damaged: what is before the cut is read and shipped,
and the file is counted and reported as cut short (``FileResult.cut_short``). An empty
file (or ``.gz`` of nothing) has nothing to ship and no identity: it is counted as empty,
not as already shipped.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from agent.parse.dates import host_timezone
from agent.parse.reader import EntryReader, ReaderOptions, ServerContext
from agent.sources.files import (
    EntryFeed,
    LogStream,
    OnEntries,
    ReadError,
    date_from_mtime,
    describe,
    gzip_damage,
)
from agent.sources.logfiles import date_of

StartOffset = Callable[[str, bytes], int | None]  # (fingerprint, head) -> start; None: skip
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
    empty: bool = False  # no bytes (a .gz of nothing too): nothing to ship, no identity
    cut_short: bool = False  # a .gz that ends mid-stream: read up to end_offset, no further
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
                result.error = f"corrupt gzip ({damage}); nothing read from it"
                return result
            _read_stream(raw, result, settings, start_offset, on_entries, on_progress, context)
    except ReadError as exc:
        if exc.cut_short:  # what came before the cut was read and handed on
            result.cut_short = True
            result.skipped = result.end_offset <= result.start_offset
        else:
            result.error = f"cannot read: {describe(exc.cause)}"
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
    stream = LogStream(raw)
    if not stream.head:
        result.empty = result.skipped = True  # nothing to ship, no identity
        result.cut_short = stream.cut is not None  # a .gz cut inside its header
        return
    result.fingerprint = stream.fingerprint
    start = start_offset(result.fingerprint, stream.head)
    if start is None:
        result.skipped = True  # the caller decided (e.g. the daemon's file)
        return
    result.start_offset = start
    day = date_of(result.path.name)
    if day is None:  # latest.log and other undated names: from the mtime, counting back
        day = date_from_mtime(result.path, start, settings.options.timezone or host_timezone())
    reader = EntryReader(
        server_id=settings.server_id,
        fingerprint=result.fingerprint,
        start_offset=start,
        options=settings.options,
        date_hint=day,
        clock=time.time,
        context=context,
    )
    feed = EntryFeed(stream, reader, on_entries)
    try:
        more = True
        while more:
            more = feed.step()
            if on_progress is not None:
                on_progress(raw.tell())
    except ReadError:
        result.end_offset = max(feed.position, start)
        result.lines = reader.stats.lines
        raise
    result.end_offset = feed.position
    result.lines = reader.stats.lines
    result.skipped = feed.position <= start  # everything was already shipped
