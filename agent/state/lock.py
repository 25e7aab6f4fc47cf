"""The state directory's lock: one process at a time writes a state dir.

Two agents sharing a spool send nearly every line twice, and a new daemon started while
the old one drains would do the same. So ``run``, ``backfill`` and ``deadletter replay``
hold an exclusive ``flock`` on ``<state dir>/agent.lock`` (mode 0600, holding the pid) for
the life of the process. The kernel releases it when the process ends, however it ends
(kill -9 included), so a stale lock file never blocks anyone: only a live holder does.

``status`` asks :func:`holder` without taking the lock for longer than a probe: a lock
that cannot be taken means a live process holds it (the daemon, or a backfill), the pid
in the file says which process, and :func:`holder_command` which command.
``run --dry-run`` writes no state and takes no lock.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from agent import events
from agent.errors import StateLockedError, UnreadableStateError

log = logging.getLogger(__name__)

LOCK_FILE = "agent.lock"
LOCK_MODE = 0o600
POLL_SECONDS = 0.1
WAIT_SECONDS = 5.0  # how long a new run waits for a daemon that is still draining


@dataclass(slots=True)
class StateLock:
    """A held lock; :meth:`release` (or process exit) lets the next process in."""

    path: Path
    fd: int

    def release(self) -> None:
        """Unlock and close (idempotent)."""
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)  # closing the only descriptor drops the flock
            self.fd = -1

    def __enter__(self) -> StateLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def acquire(state_dir: Path, *, wait_seconds: float = 0.0) -> StateLock:
    """Take the state dir's lock, waiting up to ``wait_seconds`` for a holder to finish
    (a daemon still draining); then write our pid into it.

    Raises :class:`StateLockedError` naming the holder's pid when it stays held, and
    :class:`UnreadableStateError` when the lock file cannot be opened.
    """
    path = state_dir / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, LOCK_MODE)
    except OSError as exc:
        raise UnreadableStateError(f"{path}: cannot open the lock file: {exc.strerror}") from exc
    deadline = time.monotonic() + wait_seconds
    waited = False
    while not _try_lock(fd, fcntl.LOCK_EX):
        if not waited and wait_seconds > 0:
            waited = True
            log.info(
                "%s: pid %s holds %s; waiting up to %.0f s for it to finish",
                events.STATE_LOCK_WAIT,
                _read_pid(fd) or "unknown",
                path,
                wait_seconds,
            )
        if time.monotonic() >= deadline:
            pid = _read_pid(fd)
            os.close(fd)
            raise StateLockedError(
                f"{state_dir} is in use by another serverops-agent process"
                f" ({'pid ' + str(pid) if pid else 'pid unknown'})",
                pid=pid,
            )
        time.sleep(POLL_SECONDS)
    _write_pid(fd)
    return StateLock(path, fd)


def holder(state_dir: Path) -> int | None:
    """The pid of the live process holding the lock (0 when its pid is unreadable), or
    None when nobody holds it (or there is no lock file: no agent ever wrote here).

    Probes with a non-blocking shared lock on a read-only descriptor, released at once,
    so it needs only read permission on the file and never writes it.
    """
    path = state_dir / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UnreadableStateError(f"{path}: cannot open the lock file: {exc.strerror}") from exc
    try:
        if _try_lock(fd, fcntl.LOCK_SH):
            return None
        return _read_pid(fd) or 0
    finally:
        os.close(fd)  # also drops the probe's lock


# The commands that take the lock besides the daemon's ``run``, as they appear in argv.
_OTHER_HOLDERS = (("backfill",), ("deadletter", "replay"))


def holder_command(pid: int) -> str:
    """What the holder runs, if not the daemon: ``"backfill"`` or ``"deadletter replay"``
    (from ``/proc/<pid>/cmdline``); ``""`` for the daemon, or when it cannot be told
    (not Linux, the process gone, its cmdline hidden)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return ""
    for words in _OTHER_HOLDERS:
        if words[0] in argv and all(word in argv for word in words):
            return " ".join(words)
    return ""


def _try_lock(fd: int, kind: int) -> bool:
    try:
        fcntl.flock(fd, kind | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _write_pid(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    with contextlib.suppress(OSError):
        os.fchmod(fd, LOCK_MODE)  # a file left by an older umask
