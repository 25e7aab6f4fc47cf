"""A followed file's rolled siblings, in order, and opening them. File I/O only: which
names are siblings, and their order, is agent/sources/logfiles.py's (Minecraft's rules).

Opening goes through agent/sources/files.py, the one whole-file reader (plain or gzip by
magic bytes), so a rolled file's head and stream are exactly those ``parse`` and
``backfill`` see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from agent.parse.fingerprint import FINGERPRINT_BYTES
from agent.sources import logfiles
from agent.sources.files import CHUNK_BYTES, LogStream, ReadError, open_log


@dataclass(frozen=True, slots=True)
class RotatedFile:
    """A rolled file of a followed path; ``day`` is the date in its name, if it has one."""

    path: Path
    day: date | None


def rotated_files(live: Path) -> list[RotatedFile]:
    """The rolled siblings of ``live``, oldest first ([] if none or the dir is missing)."""
    try:
        names = [entry.name for entry in live.parent.iterdir()]
    except OSError:
        return []
    return [
        RotatedFile(live.parent / name, logfiles.date_of(name))
        for name in logfiles.rolled_siblings(live.name, names)
    ]


def open_rotated(rotated: RotatedFile, *, chunk_bytes: int = CHUNK_BYTES) -> LogStream:
    """Open a rolled file's (decompressed) stream.

    A plain ``.log`` may be deleted by log4j2 right after it was listed, once its ``.gz``
    is complete: then the ``.gz`` is opened instead. Raises OSError if neither opens,
    ReadError if the first bytes cannot be read.
    """
    try:
        return open_log(rotated.path, chunk_bytes=chunk_bytes)
    except FileNotFoundError:
        gzipped = rotated.path.with_name(logfiles.compressed_name(rotated.path.name))
        return open_log(gzipped, chunk_bytes=chunk_bytes)


def read_head(rotated: RotatedFile, size: int) -> bytes | None:
    """The first ``size`` bytes (at most FINGERPRINT_BYTES) of a rolled file's stream, or
    None if it cannot be read."""
    try:
        with open_rotated(rotated, chunk_bytes=FINGERPRINT_BYTES) as stream:  # no more
            return stream.head[:size]
    except (OSError, ReadError):
        return None
