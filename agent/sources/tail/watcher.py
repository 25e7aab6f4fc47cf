"""Wake-ups for the tailer: inotify (through watchdog's bindings), polling as the safety net.

The tailer sleeps in :meth:`Waker.wait` with a timeout no longer than its polling
interval, so on filesystems where inotify does not fire (NFS, some container mounts) it
still notices growth and rotation within that interval; inotify only makes it faster.

One hop, no thread: the tailer waits on one inotify descriptor (and a pipe that
:meth:`Waker.wake` writes to), either in ``poll`` in its own thread (:meth:`Waker.wait`)
or in the daemon's event loop (:attr:`Waker.event_fd` and :attr:`Waker.wake_fd` given to
``add_reader``, then :meth:`Waker.take_events` or :meth:`Waker.take`;
agent/sources/tail/loop.py). watchdog's ``Observer`` put three threads
and two queues between the kernel and the tailer (bench/README.md "## host": about a
fifth of the agent's CPU at 50 lines/s); watchdog's ctypes bindings
(``inotify_init``/``inotify_add_watch``) are still what talks to the kernel. :meth:`wait`
returns the directories that had events, so the tailer reads only those servers' files.

Only the event types the tailer needs are requested (modify, create, move, delete), so
its own reads (open, access, close) cause no wake-ups. Directories are watched, not
files, so a watch survives the file being renamed away. The fixed roots of ``log`` globs
are watched too (:meth:`Waker.watch_root`) for folders created, deleted or moved there:
such an event sets :attr:`Waker.rescan`, so the tailer looks for new or vanished servers
soon instead of at its next periodic rescan. Where inotify is missing (not Linux) or
cannot be set up, every wait is a plain timeout: polling alone.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import select
import struct
import threading
from pathlib import Path

from agent import events

log = logging.getLogger(__name__)

try:  # Linux only; elsewhere the tailer polls
    from watchdog.observers.inotify_c import InotifyConstants, inotify_add_watch, inotify_init
    from watchdog.observers.inotify_c import inotify_rm_watch as _rm_watch
except (ImportError, OSError, AttributeError):  # pragma: no cover - not Linux
    InotifyConstants = None  # type: ignore[assignment,misc]

_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len (struct inotify_event)
_READ_BYTES = 64 * 1024
_LONGEST_EVENT = 16 + 256  # struct inotify_event + NAME_MAX + 1

if InotifyConstants is not None:
    _FILE_MASK = (
        InotifyConstants.IN_MODIFY
        | InotifyConstants.IN_CREATE
        | InotifyConstants.IN_MOVED_FROM
        | InotifyConstants.IN_MOVED_TO
        | InotifyConstants.IN_DELETE
    )
    _ROOT_MASK = (
        InotifyConstants.IN_CREATE
        | InotifyConstants.IN_DELETE
        | InotifyConstants.IN_MOVED_FROM
        | InotifyConstants.IN_MOVED_TO
    )
    _MASK_ADD = 0x20000000  # IN_MASK_ADD: a folder both followed and a root keeps both
    _IS_DIR = InotifyConstants.IN_ISDIR
    _OVERFLOW = InotifyConstants.IN_Q_OVERFLOW

_Watches = dict[Path, tuple[tuple[int, int], int]]  # directory -> ((dev, ino), wd)


class Waker:
    """What the tailer waits on: inotify events on watched folders, or :meth:`wake`."""

    def __init__(self, *, use_inotify: bool = True) -> None:
        self.rescan = threading.Event()  # set by a folder event under a glob's root
        self._use_inotify = use_inotify and InotifyConstants is not None
        self._watches: _Watches = {}
        self._roots: _Watches = {}
        self._by_wd: dict[int, Path] = {}  # followed folders, by watch descriptor
        self._root_wds: set[int] = set()
        self._failed: set[Path] = set()
        self._inotify = self._wake_r = self._wake_w = -1
        self._fds_lock = threading.Lock()  # wake() from another thread vs stop()
        self._poller = select.poll()

    @staticmethod
    def _open_inotify() -> int:
        fd = inotify_init()
        if fd < 0:
            log.warning(
                "%s: inotify unavailable (%s); polling instead",
                events.WATCH_FAILED,
                os.strerror(ctypes.get_errno()),
            )
            return -1
        os.set_blocking(fd, False)
        os.set_inheritable(fd, False)
        return fd

    @property
    def watching(self) -> bool:
        """True when inotify is set up (polling is then only the safety net)."""
        return self._inotify >= 0

    def watched(self, directory: Path) -> bool:
        """True if events on ``directory`` wake the waiter."""
        return directory in self._watches

    def start(self) -> None:
        """Open inotify and the wake pipe (the waiter reads the events: its thread or loop)."""
        with self._fds_lock:
            self._wake_r, self._wake_w = os.pipe()
            for fd in (self._wake_r, self._wake_w):
                os.set_blocking(fd, False)
            self._poller.register(self._wake_r, select.POLLIN)
            if self._use_inotify:
                self._inotify = self._open_inotify()
            if self._inotify >= 0:
                self._poller.register(self._inotify, select.POLLIN)

    def stop(self) -> None:
        """Close inotify and the wake pipe (after the waiter returned)."""
        with self._fds_lock:
            fds = [self._inotify, self._wake_r, self._wake_w]
            self._inotify = self._wake_r = self._wake_w = -1
            for fd in fds:
                if fd >= 0:
                    with contextlib.suppress(OSError):
                        os.close(fd)

    def watch(self, directory: Path) -> None:
        """Watch ``directory`` if it exists; re-watch it if it was replaced. Idempotent."""
        wd = self._watch(directory, self._watches, _FILE_MASK if self.watching else 0)
        if wd is not None:
            self._by_wd[wd] = directory

    def watch_root(self, directory: Path) -> None:
        """Watch a glob's fixed root for folders that come and go (sets :attr:`rescan`)."""
        wd = self._watch(directory, self._roots, _ROOT_MASK if self.watching else 0)
        if wd is not None:
            self._root_wds.add(wd)

    def unwatch(self, directory: Path) -> None:
        """Stop watching ``directory`` (a released server's folder)."""
        known = self._watches.pop(directory, None)
        self._failed.discard(directory)
        if known is None:
            return
        self._by_wd.pop(known[1], None)
        if known[1] not in self._root_wds and self._inotify >= 0:
            _rm_watch(self._inotify, known[1])  # an error (already gone) is fine: ignored

    def _watch(self, directory: Path, watches: _Watches, mask: int) -> int | None:
        if self._inotify < 0:
            return None
        try:
            stat = directory.stat()
        except OSError:
            return None  # not there (yet): polling covers it until it appears
        ident = (stat.st_dev, stat.st_ino)
        known = watches.get(directory)
        if known is not None and known[0] == ident:
            return None
        wd = inotify_add_watch(self._inotify, os.fsencode(directory), mask | _MASK_ADD)
        if wd < 0:
            if directory not in self._failed:
                log.warning(
                    "%s: cannot watch %s (%s); polling it instead",
                    events.WATCH_FAILED,
                    directory,
                    os.strerror(ctypes.get_errno()),
                )
                self._failed.add(directory)
            watches.pop(directory, None)
            return None
        self._failed.discard(directory)
        watches[directory] = (ident, wd)
        return wd

    def wake(self) -> None:
        """Wake the waiter now (used by stop and by tests); safe from any thread."""
        with self._fds_lock, contextlib.suppress(OSError):  # a full pipe: already woken
            if self._wake_w >= 0:
                os.write(self._wake_w, b"\0")

    def wait(self, timeout: float) -> set[Path] | None:
        """Sleep until an event, :meth:`wake` or ``timeout``.

        Returns the followed folders that had events (empty: none, the timeout or only a
        root's events), or None when every follower should look (woken by :meth:`wake`,
        or the inotify queue overflowed).
        """
        if self._wake_r < 0:  # not started, or stopped
            threading.Event().wait(max(0.0, timeout))
            return set()
        ready = self._poller.poll(max(0.0, timeout) * 1000)
        if not ready:
            return set()
        return self.take()

    def take(self) -> set[Path] | None:
        """What is pending now, without blocking: as :meth:`wait` returns it (an event
        loop calls this when :attr:`wake_fd` is readable)."""
        woken = False
        if self._wake_r >= 0:
            with contextlib.suppress(OSError):  # BlockingIOError: not woken
                woken = bool(os.read(self._wake_r, 4096))
        changed = self._read_events()
        return None if woken or changed is None else changed

    def take_events(self) -> set[Path] | None:
        """The inotify events pending now, without blocking (an event loop calls this when
        :attr:`event_fd` is readable); None: the queue overflowed, look at every folder."""
        return self._read_events()

    @property
    def wake_fd(self) -> int:
        """Readable after :meth:`wake` (-1 before :meth:`start`)."""
        return self._wake_r

    @property
    def event_fd(self) -> int:
        """The inotify descriptor, readable on events (-1: none, polling alone)."""
        return self._inotify

    @property
    def fds(self) -> list[int]:
        """The descriptors open for waiting (empty before :meth:`start` and after
        :meth:`stop`)."""
        return [fd for fd in (self._wake_r, self._inotify) if fd >= 0]

    def _read_events(self) -> set[Path] | None:
        """The folders named by pending events (None: the queue overflowed)."""
        changed: set[Path] = set()
        if self._inotify < 0:
            return changed
        while True:
            try:
                data = os.read(self._inotify, _READ_BYTES)
            except BlockingIOError:
                return changed
            except OSError:
                return None
            at = 0
            overflow = False
            while at + _EVENT.size <= len(data):
                wd, mask, _, name_len = _EVENT.unpack_from(data, at)
                at += _EVENT.size + name_len
                if mask & _OVERFLOW:
                    overflow = True
                    continue
                if wd in self._root_wds and mask & _IS_DIR:
                    self.rescan.set()
                directory = self._by_wd.get(wd)
                if directory is not None:
                    changed.add(directory)
            if overflow:
                self.rescan.set()
                return None
            if len(data) < _READ_BYTES - _LONGEST_EVENT:
                return changed  # the queue was drained: no second read just to get EAGAIN
