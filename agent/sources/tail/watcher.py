"""Wake-ups for the tailer: inotify through watchdog, with polling as the safety net.

The tailer sleeps in :meth:`Waker.wait` with a timeout no longer than its polling
interval, so on filesystems where inotify does not fire (NFS, some container mounts) it
still notices growth and rotation within that interval; inotify only makes it faster.
Only the event types the tailer needs are requested from the kernel (modify, create,
move, delete), so the tailer's own reads (open, access, close) cause no wake-ups.
Directories are watched, not files, so a watch survives the file being renamed away.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path

from watchdog.events import (
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


class _WakeHandler(FileSystemEventHandler):
    def __init__(self, flag: threading.Event) -> None:
        self._flag = flag

    def on_any_event(self, event: FileSystemEvent) -> None:
        self._flag.set()


class Waker:
    """One flag the tailer waits on; set by inotify events or :meth:`wake`."""

    def __init__(self, *, use_inotify: bool = True) -> None:
        self._flag = threading.Event()
        self._observer: BaseObserver | None = Observer() if use_inotify else None
        self._handler = _WakeHandler(self._flag)
        self._watches: dict[Path, tuple[tuple[int, int], ObservedWatch]] = {}
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
        if self._observer is None:
            return
        try:
            stat = directory.stat()
        except OSError:
            return  # not there (yet): polling covers it until it appears
        ident = (stat.st_dev, stat.st_ino)
        known = self._watches.get(directory)
        if known is not None and known[0] == ident:
            return
        if known is not None:
            # The directory was replaced; watchdog may already have dropped the old watch.
            with contextlib.suppress(KeyError, OSError):
                self._observer.unschedule(known[1])
        try:
            handle = self._observer.schedule(
                self._handler, str(directory), event_filter=_EVENT_TYPES
            )
        except OSError as exc:
            if directory not in self._failed:
                log.warning(
                    "%s: cannot watch %s (%s); polling it instead",
                    events.WATCH_FAILED,
                    directory,
                    exc,
                )
                self._failed.add(directory)
            self._watches.pop(directory, None)
            return
        self._failed.discard(directory)
        self._watches[directory] = (ident, handle)

    def wake(self) -> None:
        """Wake the waiter now (used by stop and by tests)."""
        self._flag.set()

    def wait(self, timeout: float) -> bool:
        """Sleep until an event or ``timeout``; True if woken by an event."""
        woken = self._flag.wait(timeout)
        self._flag.clear()
        return woken
