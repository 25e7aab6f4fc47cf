"""The state directory: the one place that creates it (``[state] dir``).

It holds the spool database, the dead-letter file and the IP-hash key, all of which name
players and addresses, so it is created mode 0700. Every writer of a file in it (the
spool, the dead-letter file, the wiring that hands the key's directory to
:func:`agent.encode.privacy.load_or_create_key`) calls :func:`ensure_state_dir` first, so
the mode and the error message are the same whichever of them runs first.
"""

from __future__ import annotations

import resource
from collections.abc import Iterable
from pathlib import Path

from agent.errors import AgentError

STATE_DIR_MODE = 0o700
# SQLite grows a file by pages and WAL frames: a write that failed this close to the
# file-size limit was refused by it.
FSIZE_MARGIN_BYTES = 1024 * 1024


def ensure_state_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) mode 0700 if missing; return it.

    An existing directory keeps its mode (the operator may have chosen another). A
    directory that cannot be created is an :class:`AgentError` naming ``state.dir``, the
    config key to fix, rather than an OSError traceback.
    """
    try:
        path.mkdir(mode=STATE_DIR_MODE, parents=True, exist_ok=True)
    except OSError as exc:
        raise AgentError(f"state.dir: cannot create {path}: {exc.strerror}") from exc
    return path


def file_size_limit_hit(paths: Iterable[Path]) -> str | None:
    """Why a write to one of ``paths`` failed, when a file-size limit is the cause.

    With a limit (``ulimit -f``, systemd ``LimitFSIZE=``), a write past it fails with
    EFBIG (Python ignores SIGXFSZ, which would otherwise kill the process), which SQLite
    reports only as "disk I/O error". This names the limit instead; None when no finite
    limit is set or no file is near it.
    """
    limit, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    if limit == resource.RLIM_INFINITY:
        return None
    sizes = {path.name: _size(path) for path in paths}
    largest = max(sizes.values(), default=0)
    if largest + FSIZE_MARGIN_BYTES < limit:
        return None
    files = ", ".join(f"{name} {size} bytes" for name, size in sizes.items() if size)
    return (
        f"a file-size limit was hit: the process may write files of at most {limit} bytes "
        f"(ulimit -f, or LimitFSIZE= in the unit); {files}. Raise or remove the limit"
    )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def write_failure(exc: Exception, database: Path) -> str:
    """What a failed SQLite write to ``database`` means: its message, or the file-size
    limit behind its "disk I/O error" / "database or disk is full"."""
    message = str(exc)
    if "I/O" not in message and "full" not in message:
        return message
    files = [database, *(database.with_name(database.name + s) for s in ("-wal", "-journal"))]
    return file_size_limit_hit(files) or message
