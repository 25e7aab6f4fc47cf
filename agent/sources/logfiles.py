"""Minecraft log-file names and what they mean. Pure: names in, meaning out, no file I/O.

Three families (shared/DESIGN.md "Minecraft specifics"):

* ``latest.log`` (1.7+, log4j2) is rolled to ``YYYY-MM-DD-N.log``, then gzipped to
  ``YYYY-MM-DD-N.log.gz`` and the plain file deleted (rename in the logging thread,
  compression in a background thread). Older to newer = by date, then by ``N``
  (numerically: 10 after 9). While both ``X.log`` and ``X.log.gz`` exist the ``.gz`` may
  be half written, so the plain file is the one to read.
* ``<name>.N`` (BungeeCord's ``proxy.log.0``, java.util.logging rolled by size): ``.0``
  is current, ``.1`` the newest rolled file, higher numbers older.
* anything else (pre-1.7 ``server.log``): never rotated, no siblings; its lines carry
  their own dates.

The date in a rolled name is the date of the file's first time-only line: it is found at
the end of any name (``survival-2026-11-21-1.log.gz``, a copy renamed by hand, too), but
only a bare ``YYYY-MM-DD-N.log(.gz)`` is a sibling of a followed ``latest.log``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import PurePath
from typing import TypeVar

LATEST = "latest.log"
GZIP_SUFFIX = ".gz"

_DATED = r"(\d{4})-(\d{2})-(\d{2})-(\d+)\.log(\.gz)?"
_DATED_NAME = re.compile(_DATED)  # the whole name (fullmatch)
_DATED_END = re.compile(_DATED + "$")  # the end of a longer name (search)
_NUMBERED = re.compile(r"(?P<base>.+)\.(?P<index>\d+)")
_LOG_NAME = re.compile(r"(\.log|\.log\.gz|\.log\.\d+|\.txt)$")

SortKey = tuple[int, int, int, int, int, str]
_P = TypeVar("_P", bound=PurePath)


@dataclass(frozen=True, slots=True)
class DatedName:
    """A log4j2 rolled name ``YYYY-MM-DD-N.log(.gz)``; ``day`` is None for an impossible date."""

    year: int
    month: int
    day_of_month: int
    index: int
    compressed: bool

    @property
    def order(self) -> tuple[int, int, int, int]:
        """Older to newer: by date, then by ``N``."""
        return (self.year, self.month, self.day_of_month, self.index)

    @property
    def day(self) -> date | None:
        """The date in the name (None for an impossible one, such as month 13)."""
        try:
            return date(self.year, self.month, self.day_of_month)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class NumberedName:
    """A size-rolled name ``<base>.N``: ``.0`` is current, higher ``N`` is older."""

    base: str
    index: int


def dated(name: str) -> DatedName | None:
    """The parts of a bare log4j2 rolled name, or None for any other name."""
    match = _DATED_NAME.fullmatch(name)
    if match is None:
        return None
    return DatedName(int(match[1]), int(match[2]), int(match[3]), int(match[4]), bool(match[5]))


def numbered(name: str) -> NumberedName | None:
    """The parts of a ``<base>.N`` name, or None for any other name."""
    match = _NUMBERED.fullmatch(name)
    if match is None:
        return None
    return NumberedName(match["base"], int(match["index"]))


def date_of(name: str) -> date | None:
    """The date of a rolled file from its name (a path is fine), or None when it has none.

    This is the date of the file's first time-only line: later lines are dated from it.
    """
    match = _DATED_END.search(PurePath(name).name)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def is_log_name(name: str) -> bool:
    """True for names a server's log directory holds logs under (.log, .log.gz, .log.N, .txt)."""
    return _LOG_NAME.search(name) is not None


def compressed_name(name: str) -> str:
    """The name log4j2 gives a rolled file once it is gzipped."""
    return name + GZIP_SUFFIX


def plain_name(name: str) -> str | None:
    """The name of the plain file a ``.gz`` was compressed from (None: not a ``.gz``)."""
    return name[: -len(GZIP_SUFFIX)] if name.endswith(GZIP_SUFFIX) else None


def prefer_plain(paths: list[_P]) -> list[_P]:
    """``paths`` without each ``X.gz`` whose ``X`` is listed too (it may be half written)."""
    listed = set(paths)
    return [
        path
        for path in paths
        if (plain := plain_name(path.name)) is None or path.with_name(plain) not in listed
    ]


def sort_key(path: PurePath) -> SortKey:
    """Chronological sort key: dated files by date and ``N``; numbered files, higher ``N``
    first (older); any other name alphabetically; ``latest.log`` last."""
    name = path.name
    found = dated(name)
    if found is not None:
        return (0, *found.order, str(path))
    size_rolled = numbered(name)
    if size_rolled is not None:
        return (1, -size_rolled.index, 0, 0, 0, str(path))
    if name == LATEST:
        return (3, 0, 0, 0, 0, str(path))
    return (2, 0, 0, 0, 0, str(path))


def rolled_siblings(followed: str, names: list[str]) -> list[str]:
    """Which of ``names`` (one directory's) are rolled files of ``followed``, oldest first.

    ``latest.log``: its dated files, one per roll (the plain one while both exist);
    ``<base>.0``: ``<base>.N`` for N > 0, higher N first; any other name: none.
    """
    if followed == LATEST:
        return _dated_siblings(names)
    current = numbered(followed)
    if current is not None and current.index == 0:
        return _numbered_siblings(current.base, names)
    return []


def _dated_siblings(names: list[str]) -> list[str]:
    chosen: dict[tuple[int, int, int, int], str] = {}
    for name in names:
        parts = dated(name)
        if parts is not None and (parts.order not in chosen or not parts.compressed):
            chosen[parts.order] = name  # the plain file wins over its (maybe partial) .gz
    return [chosen[key] for key in sorted(chosen)]


def _numbered_siblings(base: str, names: list[str]) -> list[str]:
    rolled = []
    for name in names:
        parts = numbered(name)
        if parts is not None and parts.base == base and parts.index != 0:
            rolled.append((parts.index, name))
    return [name for _, name in sorted(rolled, reverse=True)]
