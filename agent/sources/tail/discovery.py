"""Finding a followed file's rotated siblings, in order, and opening them. File I/O only.

Three families of followed paths (shared/DESIGN.md "Minecraft specifics"):

* ``latest.log`` (1.7+, log4j2): rolled to ``YYYY-MM-DD-N.log``, then gzipped to
  ``YYYY-MM-DD-N.log.gz`` and the plain file deleted (rename in the logging thread,
  compression in a background thread). Older to newer = by date, then by ``N``. While
  both the ``.log`` and the ``.log.gz`` of one name exist the ``.gz`` may be half written,
  so the plain file is preferred.
* ``<name>.0`` (BungeeCord's ``proxy.log.0``, java.util.logging rolled by size):
  ``.0`` is current, ``.1`` the newest rolled file, higher numbers older.
* anything else (pre-1.7 ``server.log``): never rotated, no siblings.
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

_DATED = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(\d+)\.log(\.gz)?$")
_NUMBERED = re.compile(r"^(?P<base>.+)\.(?P<index>\d+)$")
LATEST = "latest.log"
TAIL_SCAN_BYTES = 64 * 1024  # how far back "end" looks for the last complete line


@dataclass(frozen=True, slots=True)
class RotatedFile:
    """A rolled file of a followed path; ``day`` is the date in its name, if it has one."""

    path: Path
    day: date | None

    @property
    def compressed(self) -> bool:
        """True for ``.gz`` files (read through the decompressed stream)."""
        return self.path.suffix == ".gz"


def rotated_files(live: Path) -> list[RotatedFile]:
    """The rolled siblings of ``live``, oldest first ([] if none or the dir is missing)."""
    try:
        names = [entry.name for entry in live.parent.iterdir()]
    except OSError:
        return []
    if live.name == LATEST:
        return _dated(live.parent, names)
    numbered = _NUMBERED.match(live.name)
    if numbered and numbered["index"] == "0":
        return _numbered(live.parent, numbered["base"], names)
    return []


def _dated(directory: Path, names: list[str]) -> list[RotatedFile]:
    found: dict[tuple[int, int, int, int], tuple[str, bool]] = {}
    for name in names:
        match = _DATED.match(name)
        if not match:
            continue
        key = (int(match[1]), int(match[2]), int(match[3]), int(match[4]))
        plain = match[5] is None
        if key not in found or plain:
            found[key] = (name, plain)
    files = []
    for key in sorted(found):
        try:
            day = date(key[0], key[1], key[2])
        except ValueError:
            day = None
        files.append(RotatedFile(directory / found[key][0], day))
    return files


def _numbered(directory: Path, base: str, names: list[str]) -> list[RotatedFile]:
    indexes = []
    for name in names:
        match = _NUMBERED.match(name)
        if match and match["base"] == base and match["index"] != "0":
            indexes.append(int(match["index"]))
    return [RotatedFile(directory / f"{base}.{i}", None) for i in sorted(indexes, reverse=True)]


def open_rotated(rotated: RotatedFile) -> BinaryIO:
    """Open a rolled file for reading its (decompressed) stream.

    A plain ``.log`` may be deleted by log4j2 right after it was listed, once its ``.gz``
    is complete: then the ``.gz`` is opened instead. Raises OSError if neither opens.
    """
    if rotated.compressed:
        return gzip.open(rotated.path, "rb")
    try:
        return rotated.path.open("rb")
    except FileNotFoundError:
        return gzip.open(rotated.path.with_name(rotated.path.name + ".gz"), "rb")


def read_head(rotated: RotatedFile, size: int) -> bytes | None:
    """The first ``size`` bytes of a rolled file's stream, or None if it cannot be read."""
    try:
        with open_rotated(rotated) as stream:
            return stream.read(size)
    except (OSError, EOFError, zlib.error):
        return None


def line_start_near_end(fd: int, size: int) -> int:
    """Offset after the last ``\\n`` before ``size`` (where "read from end" starts).

    Starting there means a partial last line is read once it completes. If no newline is
    found in the last TAIL_SCAN_BYTES, reading starts at ``size`` (that line's head is
    skipped: an unbounded backwards scan of a 2 GB file is worse).
    """
    start = max(0, size - TAIL_SCAN_BYTES)
    tail = os.pread(fd, size - start, start)
    newline = tail.rfind(b"\n")
    if newline >= 0:
        return start + newline + 1
    return 0 if start == 0 else size
