"""Wake-ups for the tailer: inotify through watchdog, with polling as the safety net.

The tailer sleeps in :meth:`Waker.wait` with a timeout no longer than its polling
interval, so on filesystems where inotify does not fire (NFS, some container mounts) it
still notices growth and rotation within that interval; inotify only makes it faster.
Only the event types the tailer needs are requested from the kernel (modify, create,
move, delete), so the tailer's own reads (open, access, close) cause no wake-ups.
Directories are watched, not files, so a watch survives the file being renamed away.

The fixed roots of ``log`` globs are watched too (:meth:`Waker.watch_root`), for folders
created, deleted or moved there: such an event sets :attr:`Waker.rescan` as well, so the
tailer looks for new or vanished servers soon instead of at its next periodic rescan.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

from agent import events

log = logging.getLogger(__name__)

_EVENT_TYPES: list[type[FileSystemEvent]] = [
    FileModifiedEvent,
    FileCreatedEvent,
    FileMovedEvent,
    FileDeletedEvent,
]
_ROOT_EVENT_TYPES: list[type[FileSystemEvent]] = [DirCreatedEvent, DirDeletedEvent, DirMovedEvent]


class _WakeHandler(FileSystemEventHandler):
    def __init__(self, flag: threading.Event, also: threading.Event | None = None) -> None:
        self._flag = flag
        self._also = also

    def on_any_event(self, event: FileSystemEvent) -> None:
        if self._also is not None:
            self._also.set()
        self._flag.set()


class Waker:
    """One flag the tailer waits on; set by inotify events or :meth:`wake`."""

    def __init__(self, *, use_inotify: bool = True) -> None:
        self._flag = threading.Event()
        self._observer: BaseObserver | None = Observer() if use_inotify else None
        self._handler = _WakeHandler(self._flag)
        self.rescan = threading.Event()  # set by an event under a glob's root
        self._root_handler = _WakeHandler(self._flag, self.rescan)
        self._watches: dict[Path, tuple[tuple[int, int], ObservedWatch]] = {}
        self._roots: dict[Path, tuple[tuple[int, int], ObservedWatch]] = {}
        self._failed: set[Path] = set()

    def start(self) -> None:
        """Start the inotify thread (no-op when polling only)."""
        if self._observer is not None:
            self._observer.start()

    def stop(self) -> None:
        """Stop the inotify thread and wake any waiter."""
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        self._flag.set()

    def watch(self, directory: Path) -> None:
        """Watch ``directory`` if it exists; re-watch it if it was replaced. Idempotent."""
        self._watch(directory, self._watches, self._handler, _EVENT_TYPES)

    def watch_root(self, directory: Path) -> None:
        """Watch a glob's fixed root for folders that come and go (sets :attr:`rescan`)."""
        self._watch(directory, self._roots, self._root_handler, _ROOT_EVENT_TYPES)

    def unwatch(self, directory: Path) -> None:
        """Stop watching ``directory`` (a released server's folder)."""
        known = self._watches.pop(directory, None)
        self._failed.discard(directory)
        if known is not None and self._observer is not None:
            with contextlib.suppress(KeyError, OSError):
                self._observer.unschedule(known[1])

    def _watch(
        self,
        directory: Path,
        watches: dict[Path, tuple[tuple[int, int], ObservedWatch]],
        handler: FileSystemEventHandler,
        event_types: list[type[FileSystemEvent]],
    ) -> None:
        if self._observer is None:
            return
        try:
            stat = directory.stat()
        except OSError:
            return  # not there (yet): polling covers it until it appears
        ident = (stat.st_dev, stat.st_ino)
        known = watches.get(directory)
        if known is not None and known[0] == ident:
            return
        if known is not None:
            # The directory was replaced; watchdog may already have dropped the old watch.
            with contextlib.suppress(KeyError, OSError):
                self._observer.unschedule(known[1])
        try:
            handle = self._observer.schedule(handler, str(directory), event_filter=event_types)
        except OSError as exc:
            if directory not in self._failed:
                log.warning(
                    "%s: cannot watch %s (%s); polling it instead",
                    events.WATCH_FAILED,
                    directory,
                    exc,
                )
                self._failed.add(directory)
            watches.pop(directory, None)
            return
        self._failed.discard(directory)
        watches[directory] = (ident, handle)

    def wake(self) -> None:
        """Wake the waiter now (used by stop and by tests)."""
        self._flag.set()

    def wait(self, timeout: float) -> bool:
        """Sleep until an event or ``timeout``; True if woken by an event."""
        woken = self._flag.wait(timeout)
        self._flag.clear()
        return woken
