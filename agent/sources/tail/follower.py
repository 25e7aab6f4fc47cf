"""One server's stream: rolled files the agent missed, then the live file, followed.

State machine (one :class:`Follower` per server, driven by :meth:`Follower.step`; its
:class:`Phase` says where it is):

* **CATCH_UP**: a backlog of rolled files (from :func:`agent.sources.tail.plan.locate`) is
  read, each from its offset to its end, and finished (a partial last line is released):
  :class:`agent.sources.tail.catchup.CatchUp`.
* **LIVE**: ``path`` is open (:class:`agent.sources.tail.live.LiveFile`) and read as it
  grows. After reading to the end the path is ``stat``-ed: another inode, or no file,
  means it was rotated (or deleted). The old file is still open, so it is drained to its
  end and finished *before* switching — no line is lost, none is read twice — and its
  fingerprint is searched among the rolled files, so files rolled in between are read
  too. A file that shrank, or whose head no longer matches its fingerprint, was
  truncated (copytruncate) or rewritten: restart at 0. A failed drain: ``drain.py``.
* **WAITING**: the path is missing or unreadable; one log message per change of
  :class:`Waiting`, retried on every wake-up (inotify or the polling tick).
* **OPENING**: nothing is open; the next step opens the next rolled file, else the path.

The states are :class:`~agent.sources.tail.phase.Phase` and ``Waiting``. Where the live
file starts when it is opened is a :class:`agent.sources.tail.live.LiveStart`.
Entries go to the sink with the checkpoint they complete (the end of the last entry);
this class never stores a checkpoint itself.

The server's :class:`ServerContext` (UUIDs, who is online) goes with them: when its
``version`` moved since the last delivery its snapshot rides along with the checkpoint.
Readers change it only for the entries they return (never the pending one), and each
batch is delivered as soon as it is returned, so the snapshot is the context at exactly
the checkpoint; :meth:`Follower.start` restores it with the checkpoint it resumes from.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from stat import S_ISREG

from agent import events
from agent.model import Checkpoint, Entry
from agent.parse.dates import host_timezone
from agent.parse.fingerprint import FINGERPRINT_BYTES, matches
from agent.parse.reader import EntryReader, ServerContext
from agent.sources.tail.catchup import CatchUp
from agent.sources.tail.drain import rest_after_drain_failure
from agent.sources.tail.live import CHUNK_BYTES, LiveFile, LiveStart, StartAt, line_start_near_end
from agent.sources.tail.phase import Phase, Waiting
from agent.sources.tail.plan import Found, Resume, announce, locate
from agent.sources.tail.sink import CheckpointStore, Sink
from agent.sources.tail.source import ReadFrom, ServerSource

log = logging.getLogger(__name__)


class Follower:
    """Follows one server's log; see the module docstring for the states."""

    def __init__(
        self,
        source: ServerSource,
        sink: Sink,
        store: CheckpointStore,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self._sink = sink
        self._store = store
        self._clock = clock
        self._catch_up = CatchUp(
            source.server_id, new_reader=self._new_reader, deliver=self._deliver, clock=clock
        )
        self._live_start = LiveStart()
        self._live: LiveFile | None = None
        self._waiting = Waiting.NO
        self._context = ServerContext()  # one per server: UUIDs learnt in one file enrich the next
        self.drain_failures = 0  # rotated live files whose drain to the end failed
        self._context_delivered = self._context.version  # the version the sink last got

    @property
    def directory(self) -> Path:
        """The directory holding the followed file (what the watcher watches)."""
        return self.source.path.parent

    @property
    def unreadable_files(self) -> int:
        """Rolled files skipped because they could not be read."""
        return self._catch_up.unreadable_files

    @property
    def cut_short_files(self) -> int:  # rolled .gz files read up to where they were cut
        return self._catch_up.cut_short_files

    @property
    def phase(self) -> Phase:
        """Where the follower is now."""
        if self._catch_up.reading:
            return Phase.CATCH_UP
        if self._live is not None:
            return Phase.LIVE
        return Phase.OPENING if self._waiting is Waiting.NO else Phase.WAITING

    def start(self) -> None:
        """Decide where to begin: the saved checkpoint if any, else ``read_from``."""
        saved = self._store.checkpoint(self.source.server_id)
        if saved is None:
            self._live_start = LiveStart(StartAt.READ_FROM)
            return
        snapshot = self._store.server_context(self.source.server_id)
        if snapshot is not None:  # the context at the checkpoint resumed from
            self._context.restore(snapshot)
            self._context_delivered = self._context.version
        self._apply(locate(saved, self.source.path, include_live=True), saved)

    def close(self) -> None:
        """Close the open file (uncommitted lines are read again next time)."""
        self._catch_up.close()
        if self._live is not None:
            self._live.close()
            self._live = None

    def flush_deadline(self) -> float | None:
        """When the pending entry must be released by the idle flush (None: nothing due).

        Only the live file waits for more lines: a rolled file is read to its end at once.
        """
        return None if self._live is None else self._live.flush_deadline()

    def lag_bytes(self) -> int | None:
        """Bytes of the live file not read yet (None while no live file is open)."""
        if self._live is None:
            return None
        try:
            return self._live.unread_bytes()
        except OSError:
            return None

    def step(self, budget: int = 16 * CHUNK_BYTES) -> bool:
        """Do one bounded slice of work; True if more is ready right away."""
        nothing_open = not self._catch_up.reading and self._live is None
        if nothing_open and not self._open_next():
            return self._catch_up.waiting
        if self._catch_up.reading:
            self._catch_up.step(budget)
            return True
        assert self._live is not None
        return self._step_live(self._live, budget)

    # -- opening ----------------------------------------------------------------------

    def _apply(self, resume: Resume, saved: Checkpoint) -> None:
        path = self.source.path
        if resume.found is Found.LIVE:
            self._live_start = LiveStart(StartAt.SAVED, resume.live_offset, saved.fingerprint)
            return
        self._live_start = LiveStart()
        self._catch_up.extend(resume.backlog)
        announce(resume, self.source.server_id, path, saved)

    def _open_next(self) -> bool:
        return self._catch_up.open_next() or self._open_live()

    def _open_live(self) -> bool:
        path = self.source.path
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return self._wait(Waiting.MISSING, f"{path} does not exist (yet)")
        except OSError as exc:
            return self._wait(Waiting.UNREADABLE, f"cannot open {path}: {exc.strerror}")
        try:
            return self._position_live(fd)
        except OSError as exc:
            os.close(fd)
            return self._wait(Waiting.UNREADABLE, f"cannot read {path}: {exc.strerror}")

    def _position_live(self, fd: int) -> bool:
        """Open the live file where :class:`LiveStart` says (``fd`` is closed on OSError
        by the caller, and here when it is not used)."""
        path, start = self.source.path, self._live_start
        stat = os.fstat(fd)
        if not S_ISREG(stat.st_mode):
            os.close(fd)
            return self._wait(Waiting.UNREADABLE, f"{path} is not a regular file")
        if start.at is StartAt.SAVED and not matches(
            start.expect, os.pread(fd, FINGERPRINT_BYTES, 0)
        ):
            # Rotated between the start-up check and now: look for it among rolled files.
            os.close(fd)
            saved = Checkpoint(self.source.server_id, start.expect, start.offset)
            self._apply(locate(saved, path, include_live=False), saved)
            return self._open_next()
        offset = self._live_offset(fd, stat.st_size, start)
        zone = self.source.options.timezone or host_timezone()
        live = LiveFile(
            path,
            fd,
            offset,
            new_reader=self._new_reader,
            deliver=self._deliver,
            clock=self._clock,
            zone=zone,
        )
        self._live_start = LiveStart()  # any later file appeared while running
        if self._waiting is not Waiting.NO:
            log.info("%s: %s: %s is readable", events.FILE_FOUND, self.source.server_id, path)
            self._waiting = Waiting.NO
        self._live = live
        log.info(
            "%s: %s: following %s from offset %d",
            events.FILE_OPENED,
            self.source.server_id,
            path,
            offset,
        )
        return True

    def _live_offset(self, fd: int, size: int, start: LiveStart) -> int:
        if start.at is StartAt.READ_FROM:
            begin = self.source.read_from is ReadFrom.BEGINNING
            return 0 if begin else line_start_near_end(fd, size)
        if size < start.offset:
            log.warning(
                "%s: %s: %s is shorter than the saved offset; reading it from 0",
                events.FILE_TRUNCATED,
                self.source.server_id,
                self.source.path,
            )
            return 0
        return start.offset

    def _new_reader(
        self, start: int, print_: str, day: date | None = None, clock_from: int | None = None
    ) -> EntryReader:
        """A fresh reader from ``start``; ``day`` is the date of the first line (a rolled
        file's name, or the live file's mtime), ``clock_from`` where the clock takes over."""
        return EntryReader(
            server_id=self.source.server_id,
            fingerprint=print_,
            start_offset=start,
            options=self.source.options,
            date_hint=day,
            context=self._context,
            clock_from=clock_from,
        )

    def _wait(self, why: Waiting, detail: str) -> bool:
        if why is Waiting.MISSING and self._live_start.at is StartAt.READ_FROM:
            self._live_start = LiveStart()  # it will appear while the agent runs
        if self._waiting is not why:
            log.warning("%s: %s: %s; waiting for it", why.value, self.source.server_id, detail)
            self._waiting = why
        return False

    # -- reading ----------------------------------------------------------------------

    def _step_live(self, live: LiveFile, budget: int) -> bool:
        try:
            if live.shrank_or_rewritten():
                log.warning(
                    "%s: %s: %s shrank or was rewritten after %d bytes; reading it from 0",
                    events.FILE_TRUNCATED,
                    self.source.server_id,
                    live.path,
                    live.pos,
                )
                live.restart_at_zero()
            at_end = live.read(budget)
        except OSError as exc:
            self._live_failed(live, exc)
            return True
        if at_end:
            self._check_live(live)
        if self._live is live:
            live.flush_idle()
        return not at_end or self._live is not live

    def _deliver(
        self, print_: str, entries: list[Entry], offset: int, replaces: str | None = None
    ) -> None:
        if not entries:
            return
        for entry in entries:
            entry.fingerprint = print_
        checkpoint = Checkpoint(self.source.server_id, print_, offset, replaces)
        version = self._context.version
        if version == self._context_delivered:  # the common case: no serializing
            self._sink.deliver(entries, checkpoint)
            return
        self._sink.deliver(entries, checkpoint, self._context.snapshot())
        self._context_delivered = version

    def _live_failed(self, live: LiveFile, exc: OSError) -> None:
        """A read error: drop the file; it is found again by fingerprint on reopen."""
        live.close()
        self._live = None
        self._wait(Waiting.UNREADABLE, f"reading {live.path} failed at offset {live.pos} ({exc})")
        if live.fingerprint is not None:
            saved = Checkpoint(
                self.source.server_id, live.fingerprint, live.reader.committed_offset
            )
            self._apply(locate(saved, self.source.path, include_live=True), saved)

    # -- the live file ------------------------------------------------------------------

    def _check_live(self, live: LiveFile) -> None:
        """At the end of the live file: does the path still name it?"""
        try:
            now_at_path = self.source.path.stat()
            ident: tuple[int, int] | None = (now_at_path.st_dev, now_at_path.st_ino)
        except OSError:
            ident = None
        if ident != live.ident:
            self._rotated(live, gone=ident is None)

    def _rotated(self, live: LiveFile, *, gone: bool) -> None:
        try:
            live.drain()  # the writer closed the file before renaming it
        except OSError as exc:
            self._drain_failed(live, exc)
            return
        finished, end = live.fingerprint, live.pos
        live.finish()
        self._live = None
        log.info(
            "%s: %s: %s was %s after %d bytes; old file finished",
            events.FILE_ROTATED,
            self.source.server_id,
            live.path,
            "removed" if gone else "replaced",
            end,
        )
        self._live_start = LiveStart()
        if finished is not None:
            saved = Checkpoint(self.source.server_id, finished, end)
            resume = locate(saved, self.source.path, include_live=False)
            if resume.found is Found.ROTATED:
                # The first segment is the file just finished (from its end): skip it.
                self._catch_up.extend(resume.backlog[1:])

    def _drain_failed(self, live: LiveFile, exc: OSError) -> None:
        """Draining the rotated file failed: count it, queue its rest, follow the new file."""
        self.drain_failures += 1
        self._live = None
        self._live_start = LiveStart()
        self._catch_up.extend(rest_after_drain_failure(live, self.source, exc))
