"""The tailer driven by an asyncio event loop: the daemon's tail input and uploader on one loop.

Fluent Bit runs its tail input and its HTTP output on one event loop; so does the daemon.
A tailer thread of its own cost, for every line written, a wake-up of that thread, a
``call_soon_threadsafe`` to wake the uploader, and the GIL handed between the two threads
(bench/README.md "## host").

The passes are :meth:`Tailer.run_pass`, run as callbacks of the loop:

* between passes the :class:`Waker`'s descriptors (inotify, the wake pipe) are given to
  ``add_reader``; when one is readable they are taken off and a pass is scheduled
  ``COALESCE_SECONDS`` later (one pass reads what several writes added). Each pass first
  takes the pending events without blocking (:meth:`Waker.take`).
* A pass that left followers busy schedules the next with ``call_soon``: requests and acks
  run in between, and the loop is never held for more than one pass.
* An idle pass sleeps on a timer for :meth:`Tailer.sleep_seconds` (idle-flush deadlines,
  rescans, the safety-net pass) or until the next event.
* When the sink has no room for any follower nothing blocks: the next pass looks again
  after the polling interval (events are not watched meanwhile: they cannot make room).
* Without inotify (``use_inotify=False``, not Linux) only the wake pipe is watched: the
  timers alone drive the polling.

An exception from a pass (e.g. the spool cannot write) stops the tailer: its files are
closed, :attr:`LoopTailer.failure` holds the exception and ``on_failure`` is called (the
daemon logs it and exits 1). Nothing past the failed transaction was committed, so
nothing is lost: the lines are read again at the next start.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from agent.sources.tail.tailer import COALESCE_SECONDS, Next, Tailer


class LoopTailer:
    """Runs a :class:`Tailer`'s passes on the running event loop until :meth:`stop`."""

    def __init__(
        self,
        tailer: Tailer,
        *,
        on_failure: Callable[[BaseException], object] | None = None,
    ) -> None:
        self.tailer = tailer
        self._on_failure = on_failure
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: int | None = None  # the loop's thread
        self._next: asyncio.Handle | None = None  # the scheduled pass
        self._readers: list[int] = []  # descriptors given to add_reader
        self._running = False
        self._failure: BaseException | None = None

    @property
    def alive(self) -> bool:
        """True from :meth:`start` until stopped or failed."""
        return self._running

    @property
    def failure(self) -> BaseException | None:
        """The exception that stopped the tailer, if any."""
        return self._failure

    def start(self) -> None:
        """Open the followers and schedule the first pass (in the loop's thread)."""
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._running = True
        try:
            self.tailer.open()
        except Exception as exc:
            self._fail(exc)
            return
        self._next = self._loop.call_soon(self._pass)

    def stop(self) -> None:
        """Stop after the current pass: at once in the loop's thread (no pass runs while
        another callback does), else through the loop."""
        if not self._running or self._loop is None:
            return
        if threading.get_ident() == self._thread:
            self._finish()
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._finish)

    def _pass(self) -> None:
        self._next = None
        self._unwatch()
        if not self._running:
            return
        tailer = self.tailer
        if tailer.stop_requested:  # Tailer.stop() from any thread: through the wake pipe
            self._finish()
            return
        try:
            tailer.note_changed(tailer.waker.take())
            after = tailer.run_pass()
        except Exception as exc:
            self._fail(exc)
            return
        loop = self._loop
        assert loop is not None
        if after is Next.AGAIN:
            self._next = loop.call_soon(self._pass)
        elif after is Next.NO_ROOM:
            tailer.look_at_all()
            self._next = loop.call_later(tailer.poll_seconds, self._pass)
        else:
            self._watch()
            self._next = loop.call_later(tailer.sleep_seconds(), self._pass)

    def _on_ready(self) -> None:
        """An event or a wake-up: read it with the others in one pass, a moment later."""
        self._unwatch()
        if self._next is not None:
            self._next.cancel()
        assert self._loop is not None
        self._next = self._loop.call_later(COALESCE_SECONDS, self._pass)

    def _watch(self) -> None:
        assert self._loop is not None
        self._readers = self.tailer.waker.fds
        for fd in self._readers:
            self._loop.add_reader(fd, self._on_ready)

    def _unwatch(self) -> None:
        if self._loop is None:
            return
        for fd in self._readers:
            self._loop.remove_reader(fd)
        self._readers = []

    def _finish(self) -> None:
        """Cancel what is scheduled and close the files (before the waker's descriptors)."""
        if not self._running:
            return
        self._running = False
        if self._next is not None:
            self._next.cancel()
            self._next = None
        self._unwatch()
        self.tailer.close()

    def _fail(self, exc: BaseException) -> None:
        self._failure = exc
        self._finish()
        if self._on_failure is not None:
            self._on_failure(exc)
