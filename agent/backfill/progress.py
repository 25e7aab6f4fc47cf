"""Progress of a backfill: a rich bar on a terminal, plain periodic log lines otherwise.

Both go to stderr (stdout carries the JSON lines of a dry run). Updates are throttled:
callers may report after every chunk.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from agent import events
from agent.backfill.reading import FileResult
from agent.backfill.summary import Totals

log = logging.getLogger(__name__)

PLAIN_INTERVAL_SECONDS = 10.0
BAR_INTERVAL_SECONDS = 0.2


class Reporter:
    """Shows progress; ``sent`` returns the entries sent so far (0 in a dry run)."""

    def __init__(
        self,
        totals: Totals,
        sent: Callable[[], int],
        *,
        tty: bool,
        paused: Callable[[], str | None] = lambda: None,
    ) -> None:
        self._totals = totals
        self._sent = sent
        self._paused = paused
        self._tty = tty
        self._last = 0.0
        self._in_file = 0  # bytes of the current file read so far
        self._bar: Progress | None = None
        self._task = 0

    def __enter__(self) -> Reporter:
        if self._tty:
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TextColumn("{task.fields[rate]} lines/s  sent {task.fields[sent]}"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task(
                self._files_text(), total=self._totals.bytes_total or None, rate="0", sent="0"
            )
        return self

    def __exit__(self, *exc: object) -> None:
        self._refresh(force=True)
        if self._bar is not None:
            self._bar.stop()

    def file_done(self, result: FileResult) -> None:
        """A file was read to its end (or failed)."""
        self._in_file = 0
        if result.error is not None:
            message = f"{events.BACKFILL_FILE_FAILED}: {result.path}: {result.error}"
            if self._bar is not None:
                self._bar.console.print(message)
            else:
                log.error(message)
        elif result.cut_short:
            message = (
                f"{events.FILE_CUT_SHORT}: {result.path}: the gzip stream ends mid-way; "
                f"its first {result.end_offset:,} bytes were read, the rest is not in the file"
            )
            if self._bar is not None:
                self._bar.console.print(message)
            else:
                log.warning(message)
        self._refresh(force=self._bar is not None)

    def bytes_read(self, position: int) -> None:
        """Bytes of the current file read so far (-1: only refresh, e.g. while sending)."""
        if position >= 0:
            self._in_file = position
        self._refresh()

    def _files_text(self) -> str:
        totals = self._totals
        done = totals.files_done + len(totals.failures)
        return f"files {done}/{totals.files}"

    def _refresh(self, *, force: bool = False) -> None:
        now = time.monotonic()
        interval = BAR_INTERVAL_SECONDS if self._bar is not None else PLAIN_INTERVAL_SECONDS
        if not force and now - self._last < interval:
            return
        self._last = now
        totals = self._totals
        elapsed = max(now - totals.started, 1e-9)
        rate = f"{totals.lines / elapsed:,.0f}"
        sent = f"{self._sent():,}"
        paused = self._paused()
        if paused is not None:
            sent += f" (sending paused: {paused})"
        done_bytes = totals.bytes_read + self._in_file
        if self._bar is not None:
            self._bar.update(
                self._task,
                completed=done_bytes,
                description=self._files_text(),
                rate=rate,
                sent=sent,
            )
            return
        log.info(
            "%s: %s, %d of %d bytes, %s lines/s, %s entries sent",
            events.BACKFILL_PROGRESS,
            self._files_text(),
            done_bytes,
            totals.bytes_total,
            rate,
            sent,
        )
