"""The tailer driven by an asyncio event loop: the daemon's tail input and uploader on one loop.

Fluent Bit runs its tail input and its HTTP output on one event loop; so does the daemon.
A tailer thread of its own cost, for every line written, a wake-up of that thread, a
``call_soon_threadsafe`` to wake the uploader, and the GIL handed between the two threads
(bench/README.md "## host").

The passes are :meth:`Tailer.run_pass`, run as callbacks of the loop:

* The :class:`Waker`'s descriptors (inotify, the wake pipe) are given to ``add_reader``;
  a readable one is read at once (without blocking) and the followers of the folders
  named are due.
* A pass follows an event at once, unless the last pass started less than
  ``COALESCE_SECONDS`` ago: then it waits for that moment, with inotify off the loop
  until it runs (it reads what came meanwhile), so under load one pass reads what several
  writes added (at most one pass per ``COALESCE_SECONDS``, no wake-up per write), while a
  lone line (one server writing now and then) costs one wake-up and no added latency.
* A pass that left followers busy schedules the next with ``call_soon``: requests, acks
  and inotify reads run in between, and the loop is never held for more than one pass.
* An idle pass sleeps on a timer for :meth:`Tailer.sleep_seconds` (idle-flush deadlines,
  rescans, the safety-net pass) or until the next event.
* When the sink has no room for any follower nothing blocks: the next pass looks again
  after the polling interval (events are read but do not bring it forward: they cannot
  make room; a wake-up does).
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
        self._next_at = 0.0  # when it runs (loop time)
        self._last_pass = float("-inf")  # when the last pass started (loop time)
        self._paused = False  # no room in the sink: only the poll timer looks again
        self._muted = False  # inotify taken off the loop until the next pass
        self._readers: list[int] = []  # descriptors given to add_reader
        self._running = False
        self._in_pass = False
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
        """Open the followers, watch the waker's descriptors and run the first pass soon
        (in the loop's thread)."""
        loop = self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._running = True
        try:
            self.tailer.open()
        except Exception as exc:
            self._fail(exc)
            return
        waker = self.tailer.waker
        self._readers = [fd for fd in (waker.wake_fd, waker.event_fd) if fd >= 0]
        loop.add_reader(waker.wake_fd, self._on_wake)
        if waker.event_fd >= 0:
            loop.add_reader(waker.event_fd, self._on_events)
        self._schedule(loop.time())

    def stop(self) -> None:
        """Stop after the current pass: at once in the loop's thread (no pass runs while
        another callback does), else through the loop."""
        if not self._running or self._loop is None:
            return
        if self._in_pass:  # called by the pass itself (a sink's callback): after it
            self.tailer.stop()
        elif threading.get_ident() == self._thread:
            self._finish()
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._finish)

    # -- wake-ups --------------------------------------------------------------------------

    def _on_events(self) -> None:
        """inotify is readable: note the folders, and pass (at most one pass a coalescing
        interval: under load one pass reads what several writes added). Until a pass that
        is not due yet, inotify is not watched: that pass reads what came meanwhile, and
        the writes in between cost no wake-up each."""
        self.tailer.note_changed(self.tailer.waker.take_events())
        assert self._loop is not None
        now = self._loop.time()
        when = max(now, self._last_pass + COALESCE_SECONDS)
        if self._paused or when > now:
            self._mute()
        if not self._paused:  # the sink is full: events cannot make room; the timer looks
            self._schedule(when)

    def _on_wake(self) -> None:
        """Tailer.stop() or Waker.wake() (any thread): look at every follower, or stop."""
        self.tailer.note_changed(self.tailer.waker.take())
        assert self._loop is not None
        self._schedule(self._loop.time())

    def _mute(self) -> None:
        fd = self.tailer.waker.event_fd
        if not self._muted and fd in self._readers:
            assert self._loop is not None
            self._loop.remove_reader(fd)
            self._muted = True

    def _unmute(self) -> None:
        """Watch inotify again, and read what came while it was not watched."""
        assert self._loop is not None
        self._muted = False
        self._loop.add_reader(self.tailer.waker.event_fd, self._on_events)
        self.tailer.note_changed(self.tailer.waker.take_events())

    def _schedule(self, when: float) -> None:
        """The next pass at ``when`` at the latest (an earlier one already set stands)."""
        if self._next is not None:
            if self._next_at <= when:
                return
            self._next.cancel()
        assert self._loop is not None
        self._next_at = when
        if when <= self._loop.time():
            self._next = self._loop.call_soon(self._pass)
        else:
            self._next = self._loop.call_at(when, self._pass)

    # -- passes --------------------------------------------------------------------------

    def _pass(self) -> None:
        self._next = None
        if not self._running:
            return
        tailer = self.tailer
        if tailer.stop_requested:  # Tailer.stop() from any thread: through the wake pipe
            self._finish()
            return
        loop = self._loop
        assert loop is not None
        self._last_pass = now = loop.time()
        self._paused = False
        self._in_pass = True
        try:
            if self._muted:
                self._unmute()
            after = tailer.run_pass()
        except Exception as exc:
            self._in_pass = False
            self._fail(exc)
            return
        self._in_pass = False
        if after is Next.AGAIN:
            self._schedule(now)
        elif after is Next.NO_ROOM:
            self._paused = True
            tailer.look_at_all()
            self._schedule(now + tailer.poll_seconds)
        else:
            self._schedule(now + tailer.sleep_seconds())

    def _finish(self) -> None:
        """Cancel what is scheduled and close the files (before the waker's descriptors)."""
        if not self._running:
            return
        self._running = False
        if self._next is not None:
            self._next.cancel()
            self._next = None
        assert self._loop is not None
        for fd in self._readers:
            self._loop.remove_reader(fd)  # False (not an error) for a muted one
        self._readers = []
        self.tailer.close()

    def _fail(self, exc: BaseException) -> None:
        self._failure = exc
        self._finish()
        if self._on_failure is not None:
            self._on_failure(exc)
