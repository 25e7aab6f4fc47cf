"""Several servers followed together: the passes that drive the followers.

Each pass gives each follower due a bounded slice of work (so one busy server cannot
starve another), then sleeps until an inotify event, the next idle-flush deadline or the
polling interval, whichever comes first. Due are: the followers whose folder had events
(passes at most one per COALESCE_SECONDS, so one pass reads what several writes added),
those with more to read or an idle flush due, and every follower at the safety-net pass
(every poll, or every WATCHED_POLL_SECONDS while inotify watches every folder). The
entries of one pass commit in one spool transaction (the sink's ``batched()``). While the
sink has no room nothing is read: the log files are the buffer (shared/DESIGN.md, invariant 3).

Two drivers share :meth:`Tailer.run_pass`: :meth:`Tailer.run` (a thread of its own,
sleeping in the :class:`Waker`; :func:`follow`, tests, benches) and
:class:`agent.sources.tail.loop.LoopTailer` (the daemon: the passes are callbacks of its
event loop, so no thread hand-off between the tailer and the uploader). A pass tells its
driver what comes next (:class:`Next`).

Servers come and go when ``log`` is a glob (agent/sources/tail/servers.py): the set is
scanned again every ``rescan_seconds`` (5 s: some 200 ``stat`` calls for 200 servers, no
busy polling) and soon after a folder is created, deleted or moved under a glob's fixed
root (inotify). A released server's file handles and watches are closed and its metric
series dropped; its checkpoints stay in the store.

Fairness: the sink's room is asked per server (``has_room(server_id)``), so a server that
filled its share of the spool pauses alone while the others go on reading.

File trouble (missing, unreadable, rotated, truncated) is handled and logged inside the
followers; an exception from the sink (e.g. the spool cannot write) ends :meth:`run`
and is raised to the caller: nothing was committed past it, so nothing is lost.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from agent.metrics import Metrics
from agent.sources.tail.follower import Follower
from agent.sources.tail.servers import ServerSet
from agent.sources.tail.sink import CheckpointStore, Sink
from agent.sources.tail.source import ServerSource
from agent.sources.tail.watcher import Waker

DEFAULT_POLL_SECONDS = 1.0
DEFAULT_RESCAN_SECONDS = 5.0
# With every folder watched by inotify, the safety-net pass over all followers (a fstat,
# a pread and a stat each) runs this often instead of every poll (bench/README.md "## host").
WATCHED_POLL_SECONDS = 5.0
# Passes are at least this far apart (the loop driver), or a pass waits this long after an
# event (the thread driver): one pass reads what several writes added. Each pass costs a
# spool transaction, a feeder wake-up and their syscalls whatever it reads, so this is the
# main lever on CPU at a game server's pace; 50 ms keeps the latency p99 at 50 lines/s near
# 70 ms, under the 100 ms target (bench/README.md "## host": 10 ms 7.0 %, 40 ms 5.2 %,
# 60 ms 3.9 % of a core).
COALESCE_SECONDS = 0.05
RESCAN_AFTER_EVENT_SECONDS = 0.2  # a burst of folder events makes one rescan


class Next(enum.Enum):
    """What a pass leaves for its driver to do."""

    AGAIN = "again"  # followers have more to read: the next pass now
    SLEEP = "sleep"  # until an event or sleep_seconds()
    NO_ROOM = "no_room"  # every follower is paused (the sink is full): look again later


class Tailer:
    """Follows every configured server until :meth:`stop` (or the stop event) is set."""

    def __init__(
        self,
        sources: Sequence[ServerSource],
        sink: Sink,
        store: CheckpointStore,
        *,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        use_inotify: bool = True,
        clock: Callable[[], float] = time.monotonic,
        rescan_seconds: float = DEFAULT_RESCAN_SECONDS,
        metrics: Metrics | None = None,
    ) -> None:
        self._sink = sink
        self._store = store
        self._clock = clock
        self._poll = poll_seconds
        self._waker = Waker(use_inotify=use_inotify)
        self._stop = threading.Event()
        self._next_watch = 0.0
        self._servers = ServerSet(sources)
        self._rescan_every = rescan_seconds
        self._next_rescan = float("inf")
        self._metrics = metrics
        self._next_publish = 0.0
        self._next_full = 0.0  # when every follower is stepped (the polling safety net)
        self._every = poll_seconds  # its interval: longer while every folder is watched
        self._stop_given = False
        self._due: set[Follower] = set()  # to step in the next pass: events, more work
        # Each follower's idle-flush deadline, as of its last step (only a step moves it):
        # no scan of every follower per pass (bench/README.md "## host", 200 servers).
        self._deadlines: dict[Follower, float] = {}
        self._by_directory: dict[Path, list[Follower]] = {}
        self.followers: list[Follower] = []
        self._add(self._servers.scan().found)

    def stop(self) -> None:
        """Ask the driver to stop after its current slice of work (from any thread)."""
        self._stop.set()
        self._waker.wake()

    @property
    def stop_requested(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stop.is_set()

    @property
    def poll_seconds(self) -> float:
        """The polling interval (a paused tailer looks for room this often)."""
        return self._poll

    @property
    def waker(self) -> Waker:
        """What the driver waits on between passes."""
        return self._waker

    def run(self, stop: threading.Event | None = None) -> None:
        """Follow in this thread until stopped; ``stop`` (if given) is checked at least
        every poll."""
        self._stop_given = stop is not None
        try:
            self.open()
            while not self._stopping(stop):
                after = self.run_pass()
                if after is Next.NO_ROOM:
                    self._sink.wait_for_room(self._poll)
                    self.look_at_all()
                elif after is Next.SLEEP:
                    self._wait()
        finally:
            self.close()

    def open(self) -> None:
        """Start the waker and every follower (before the first pass)."""
        self._waker.start()
        for follower in self.followers:
            follower.start()
        if self._servers.dynamic:
            self._next_rescan = self._clock() + self._rescan_every

    def close(self) -> None:
        """Close the waker and every follower's files (after the last pass)."""
        self._waker.stop()
        for follower in self.followers:
            follower.close()

    def _stopping(self, stop: threading.Event | None) -> bool:
        return self._stop.is_set() or (stop is not None and stop.is_set())

    def look_at_all(self) -> None:
        """The next pass steps every follower (after a wait for room, or a wake-up)."""
        self._next_full = 0.0

    def note_changed(self, changed: set[Path] | None) -> None:
        """Folders that had events (their followers are due); None: every follower is."""
        if changed is None:
            self.look_at_all()
            return
        for directory in changed:
            self._due.update(self._by_directory.get(directory, ()))

    def run_pass(self) -> Next:
        """One pass: rescan, rewatch, metrics, a slice of work for each follower due, in
        one sink transaction. Raises what the sink raises (nothing past it committed)."""
        self._rescan()
        self._rewatch()
        self._publish_metrics()
        busy: set[Follower] = set()
        paused: set[Follower] = set()  # looked at again after the next wake-up
        with self._sink.batched():  # one spool commit per pass
            for follower in self._chosen():
                if not self._sink.has_room(follower.source.server_id):
                    paused.add(follower)  # its share of the spool is full: the log is the buffer
                    # Its idle flush waits for room too (looked at every poll while paused):
                    # a deadline left in the past would make every sleep zero, a busy loop.
                    self._deadlines.pop(follower, None)
                    continue
                if follower.step():
                    busy.add(follower)
                self._note_deadline(follower)
        self._due = busy | paused
        if paused and len(paused) == len(self.followers):
            return Next.NO_ROOM
        return Next.AGAIN if busy else Next.SLEEP

    def _chosen(self) -> list[Follower]:
        """Every follower at the safety-net poll; else those with events, more work or an
        idle flush due."""
        now = self._clock()
        if now >= self._next_full:
            every = self._poll
            if self._waker.watching and all(
                self._waker.watched(f.directory) for f in self.followers
            ):
                every = max(self._poll, WATCHED_POLL_SECONDS)
            self._every = every
            self._next_full = now + every
            return self.followers
        due = self._due
        if self._deadlines and min(self._deadlines.values()) <= now:
            due = due | {f for f, d in self._deadlines.items() if d <= now}
        return [f for f in self.followers if f in due]

    def _note_deadline(self, follower: Follower) -> None:
        deadline = follower.flush_deadline()
        if deadline is None:
            self._deadlines.pop(follower, None)
        else:
            self._deadlines[follower] = deadline

    def _wait(self) -> None:
        """Sleep until an event, a deadline or the poll; note which followers are due."""
        changed = self._waker.wait(self.sleep_seconds())
        if changed:
            # Lines come one write at a time: a moment's wait reads several in one pass.
            self._stop.wait(COALESCE_SECONDS)
            more = self._waker.wait(0.0)
            changed = None if more is None else changed | more
        self.note_changed(changed)  # None: woken by wake() (stop, tests) or an overflow

    # -- servers that come and go ---------------------------------------------------------

    def _rescan(self) -> None:
        """Look for servers found or gone: when due, or soon after a folder event."""
        now = self._clock()
        if self._waker.rescan.is_set():
            self._waker.rescan.clear()
            self._next_rescan = min(self._next_rescan, now + RESCAN_AFTER_EVENT_SECONDS)
        if now < self._next_rescan:
            return
        self._next_rescan = now + self._rescan_every
        changes = self._servers.scan()
        self._release(set(changes.released))
        added = self._add(changes.found)
        for follower in added:
            follower.start()
            self._waker.watch(follower.directory)

    def _add(self, sources: Sequence[ServerSource]) -> list[Follower]:
        store, sink, clock = self._store, self._sink, self._clock
        added = [Follower(source, sink, store, clock=clock) for source in sources]
        self.followers.extend(added)
        for follower in added:
            self._by_directory.setdefault(follower.directory, []).append(follower)
        return added

    def _release(self, server_ids: set[str]) -> None:
        if not server_ids:
            return
        gone = [f for f in self.followers if f.source.server_id in server_ids]
        self.followers = [f for f in self.followers if f.source.server_id not in server_ids]
        still_watched = {f.directory for f in self.followers}
        for follower in gone:
            follower.close()
            self._due.discard(follower)
            self._deadlines.pop(follower, None)
            same = self._by_directory.get(follower.directory, [])
            self._by_directory[follower.directory] = [f for f in same if f is not follower]
            if follower.directory not in still_watched:
                self._waker.unwatch(follower.directory)
            if self._metrics is not None:
                self._metrics.forget_server(follower.source.server_id)

    def _rewatch(self) -> None:
        """With the safety-net pass: watch directories that appeared or were replaced."""
        now = self._clock()
        if now < self._next_watch:
            return
        self._next_watch = now + self._every
        for root in self._servers.roots:
            self._waker.watch_root(root)
        for follower in self.followers:
            self._waker.watch(follower.directory)

    def _publish_metrics(self) -> None:
        """Servers followed and each one's lag, every ``rescan_seconds`` (an fstat each)."""
        now = self._clock()
        if self._metrics is None or now < self._next_publish:
            return
        self._next_publish = now + self._rescan_every
        self._metrics.servers_followed.set(len(self.followers))
        for follower in self.followers:
            lag = follower.lag_bytes()
            if lag is not None:
                self._metrics.server_lag_bytes.labels(follower.source.server_id).set(lag)

    def sleep_seconds(self) -> float:
        """How long the driver may sleep before the next pass is due (without events)."""
        now = self._clock()
        nearest = min(self._next_full, self._next_rescan, *self._deadlines.values())
        if self._stop_given or self._due:  # run(stop), or paused followers: every poll
            nearest = min(nearest, now + self._poll)
        return max(0.0, nearest - now)


def follow(
    servers: Sequence[ServerSource],
    sink: Sink,
    store: CheckpointStore,
    stop_event: threading.Event,
    *,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    use_inotify: bool = True,
) -> None:
    """Follow ``servers`` (globs expanded) into ``sink`` until ``stop_event`` is set."""
    Tailer(servers, sink, store, poll_seconds=poll_seconds, use_inotify=use_inotify).run(stop_event)
