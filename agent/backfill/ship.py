"""``backfill`` (not a dry run): read old files into the daemon's spool, and send them.

Each chunk's entries go into the spool together with the checkpoint they complete, in one
transaction (:meth:`Spool.append`), under the same ``server_id`` and file fingerprint
the daemon uses. So:

* a file is never shipped twice: a re-run starts every file at its saved offset, and a
  file whose offset is at its end is skipped as already shipped;
* Ctrl-C loses nothing: what was read is in the spool, sent by the next run or the daemon;
* the daemon's own position is left alone: when the server already has a checkpoint
  (the daemon's resume point), backfill saves its checkpoints *behind* it
  (``as_latest=False``), and the file holding that checkpoint, and every file after it
  in chronological order, are the daemon's to read (skipped here);
* when the server has no checkpoint yet, the checkpoints are saved in chronological
  order, so the daemon later resumes after the newest file the backfill read.

The uploader runs in a background thread while files are read (the spool is bounded:
reading waits for room), and until the spool is empty at the end.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent.backfill.encode import EncodeSettings
from agent.backfill.reading import SKIP_DAEMON, FileResult, ReadSettings, read_file
from agent.backfill.summary import Totals, count_encoded
from agent.metrics import Metrics
from agent.model import Checkpoint, Entry
from agent.parse.fingerprint import matches
from agent.parse.reader import ServerContext
from agent.ship.uploader import Uploader
from agent.state.sinks import SpoolSink
from agent.state.spool import Spool

DRAIN_POLL_SECONDS = 0.1
OnProgress = Callable[[int], None]


@dataclass(slots=True)
class ShipContext:
    """The long-lived parts of one shipping backfill."""

    spool: Spool
    uploader: Uploader
    metrics: Metrics  # the spool's and the uploader's (sent, dead-lettered)
    read: ReadSettings
    encode: EncodeSettings


class _SenderStoppedError(Exception):
    """The uploader thread ended while files were still being read (its error follows)."""


class UploaderThread:
    """Runs :meth:`Uploader.run` in its own thread and event loop."""

    def __init__(self, uploader: Uploader) -> None:
        self._uploader = uploader
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="backfill-uploader", daemon=True)

    def start(self) -> None:
        """Start sending."""
        self._thread.start()

    def _run(self) -> None:
        try:
            asyncio.run(self._uploader.run())
        except BaseException as exc:  # reported by the main thread
            self.error = exc

    @property
    def alive(self) -> bool:
        """True while the uploader runs."""
        return self._thread.is_alive()

    def stop(self) -> None:
        """Ask the uploader to stop (requests in flight finish) and wait for it."""
        self._uploader.request_stop()
        self._thread.join()


def ship_all(
    paths: list[Path],
    ship: ShipContext,
    totals: Totals,
    *,
    on_file: Callable[[FileResult], None],
    on_progress: OnProgress,
) -> None:
    """Read every file into the spool and send until it is empty (Ctrl-C: stop cleanly)."""
    server_id = ship.read.server_id
    resume_point = ship.spool.checkpoint(server_id)  # the daemon's, or an earlier run's
    sender = UploaderThread(ship.uploader)
    sender.start()
    context = ServerContext()
    daemon_owns_rest = False
    try:
        for path in paths:
            if daemon_owns_rest:
                result = FileResult(path, size=_size(path), skipped=True, skip_reason=SKIP_DAEMON)
            else:
                result = ship_file(
                    path, ship, resume_point, context, on_progress, sending=lambda: sender.alive
                )
                daemon_owns_rest = result.skip_reason == SKIP_DAEMON
            totals.add_file(result)
            on_file(result)
        _wait_until_sent(ship, sender, on_progress)
    except KeyboardInterrupt:
        totals.interrupted = True
    except _SenderStoppedError:
        pass  # sender.error is raised below
    finally:
        sender.stop()
        metrics = ship.metrics
        totals.sent = int(metrics.total(metrics.entries_sent))
        totals.dead_lettered = int(metrics.total(metrics.entries_dead_lettered))
        totals.spooled = int(metrics.total(metrics.entries_spooled))
    if sender.error is not None:
        raise sender.error


def ship_file(
    path: Path,
    ship: ShipContext,
    resume_point: Checkpoint | None,
    context: ServerContext,
    on_progress: OnProgress,
    *,
    sending: Callable[[], bool] = lambda: True,
) -> FileResult:
    """Read one file from its saved offset into the spool, with its checkpoints.

    Entries go through :class:`SpoolSink`, as the daemon's do. When the spool is full,
    reading waits for the uploader to make room (``sending`` says whether it still runs;
    if it stopped, waiting ends).
    """
    server_id = ship.read.server_id
    spool = ship.spool
    metrics = Metrics()  # this file's tag and filter counts (count_encoded)
    sink = SpoolSink(spool, ship.encode.encoder(metrics), as_latest=resume_point is None)
    parsed = 0
    owned_by_daemon = False
    current: list[str] = []  # the file's fingerprint, once known

    def start_offset(fingerprint: str, head: bytes) -> int | None:
        nonlocal owned_by_daemon
        current.append(fingerprint)
        if resume_point is not None and matches(resume_point.fingerprint, head):
            owned_by_daemon = True
            return None  # read nothing
        saved = [c.offset for c in spool.checkpoints(server_id) if matches(c.fingerprint, head)]
        return max(saved, default=0)

    def on_entries(entries: list[Entry], offset: int) -> None:
        nonlocal parsed
        parsed += len(entries)
        sink.deliver(entries, Checkpoint(server_id, current[0], offset))
        if not sink.wait_while_full(still_sending=sending):
            raise _SenderStoppedError

    result = read_file(
        path,
        ship.read,
        start_offset=start_offset,
        on_entries=on_entries,
        on_progress=on_progress,
        context=context,
    )
    if owned_by_daemon:
        result.skipped, result.skip_reason, result.end_offset = True, SKIP_DAEMON, 0
    result.entries = parsed
    count_encoded(result, metrics)
    return result


def _wait_until_sent(ship: ShipContext, sender: UploaderThread, on_progress: OnProgress) -> None:
    """Bounded poll until the spool is empty and nothing is in flight (or the uploader died)."""
    while sender.alive:
        if ship.spool.stats().depth == 0 and ship.uploader.pending == 0:
            return
        on_progress(-1)
        time.sleep(DRAIN_POLL_SECONDS)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
