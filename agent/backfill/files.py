"""Which files a backfill reads, and in which order. Expanding paths is I/O; ordering is pure.

Arguments are files, directories (a server's ``logs/``: its log files, not recursively)
and globs. Chronological order, oldest first:

1. log4j2 rolled files ``YYYY-MM-DD-N.log(.gz)`` by date, then ``N``;
2. size-rolled files ``<name>.N`` (BungeeCord's ``proxy.log.N``): higher ``N`` is older,
   ``.0`` (the current file) last of them;
3. any other file (pre-1.7 ``server.log``, whose lines carry their own dates), by name;
4. ``latest.log`` last.

When both ``X.log`` and ``X.log.gz`` exist (log4j2 was compressing when the files were
listed) only the plain one is read, as the tailer does: the ``.gz`` may be half written.
"""

from __future__ import annotations

import glob
import re
from datetime import date
from pathlib import Path

from agent.errors import PathError
from agent.parse.dates import date_from_filename

LATEST = "latest.log"
_DATED = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(\d+)\.log(?:\.gz)?$")
_NUMBERED = re.compile(r"^.+\.(\d+)$")
_LOG_NAME = re.compile(r"(\.log|\.log\.gz|\.log\.\d+|\.txt)$")
_GLOB_CHARS = re.compile(r"[*?\[]")

SortKey = tuple[int, int, int, int, int, str]


def expand(arguments: list[str]) -> list[Path]:
    """Files named by the arguments, deduplicated, oldest first.

    Raises PathError for a path that does not exist, a glob that matches nothing, or a
    directory without log files.
    """
    found: dict[Path, None] = {}
    for argument in arguments:
        for path in _expand_one(argument):
            found.setdefault(path, None)
    return order(_prefer_plain(list(found)))


def _expand_one(argument: str) -> list[Path]:
    if _GLOB_CHARS.search(argument):
        matched = sorted(Path(name) for name in glob.glob(argument))  # noqa: PTH207
        files = [path for path in matched if path.is_file()]
        for directory in (path for path in matched if path.is_dir()):
            files.extend(_log_files(directory))
        if not files:
            raise PathError(f"{argument}: no file matches")
        return files
    path = Path(argument)
    if path.is_dir():
        files = _log_files(path)
        if not files:
            raise PathError(f"{argument}: no log files in this directory")
        return files
    if not path.exists():
        raise PathError(f"{argument}: no such file or directory")
    return [path]


def _log_files(directory: Path) -> list[Path]:
    """The log files directly in ``directory`` (by name: .log, .log.gz, .log.N)."""
    try:
        return sorted(
            entry for entry in directory.iterdir() if entry.is_file() and is_log_name(entry.name)
        )
    except OSError as exc:
        raise PathError(f"{directory}: cannot list: {exc.strerror}") from None


def is_log_name(name: str) -> bool:
    """True for names a server's log directory holds logs under."""
    return _LOG_NAME.search(name) is not None


def _prefer_plain(paths: list[Path]) -> list[Path]:
    """Drop ``X.log.gz`` when ``X.log`` is in the list too."""
    names = set(paths)
    return [p for p in paths if not (p.suffix == ".gz" and p.with_suffix("") in names)]


def order(paths: list[Path]) -> list[Path]:
    """The paths oldest first (see the module docstring)."""
    return sorted(paths, key=sort_key)


def sort_key(path: Path) -> SortKey:
    """Chronological sort key of one log file name."""
    name = path.name
    dated = _DATED.match(name)
    if dated is not None:
        return (0, int(dated[1]), int(dated[2]), int(dated[3]), int(dated[4]), str(path))
    numbered = _NUMBERED.match(name)
    if numbered is not None:
        return (1, -int(numbered[1]), 0, 0, 0, str(path))
    if name == LATEST:
        return (3, 0, 0, 0, 0, str(path))
    return (2, 0, 0, 0, 0, str(path))


def date_hint(path: Path) -> date | None:
    """The date of a rotated file's first time-only line, from its name (None: unknown)."""
    return date_from_filename(path.name)
