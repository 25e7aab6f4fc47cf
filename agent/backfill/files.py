"""Which files a backfill reads, and in which order: expanding the command line's arguments.

Arguments are files, directories (a server's ``logs/``: its log files, not recursively)
and globs. The rules about names (what a log file is called, which is older, that a
plain ``X.log`` is read instead of its maybe half-written ``X.log.gz``, as the tailer
does) are Minecraft's, in agent/sources/logfiles.py; this module only lists files.
"""

from __future__ import annotations

import glob
import re
from pathlib import Path

from agent.errors import PathError
from agent.sources.logfiles import is_log_name, prefer_plain, sort_key

_GLOB_CHARS = re.compile(r"[*?\[]")


def expand(arguments: list[str]) -> list[Path]:
    """Files named by the arguments, deduplicated, oldest first.

    Raises PathError for a path that does not exist, a glob that matches nothing, or a
    directory without log files.
    """
    found: dict[Path, None] = {}
    for argument in arguments:
        for path in _expand_one(argument):
            found.setdefault(path, None)
    return order(prefer_plain(list(found)))


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


def order(paths: list[Path]) -> list[Path]:
    """The paths oldest first (agent/sources/logfiles.py :func:`sort_key`)."""
    return sorted(paths, key=sort_key)
