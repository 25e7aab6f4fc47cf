"""What a backfill did, counted as it goes, and the summary printed at its end. Pure."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from agent.backfill.reading import SKIP_DAEMON, FileResult
from agent.metrics import Metrics

EXIT_OK = 0
EXIT_FAILED = 1  # a file could not be read, or entries were dead-lettered (a .gz cut short
# is not a failure: its readable part is shipped, and the summary names it)
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as shells report it


@dataclass(slots=True)
class Totals:
    """Counters of one backfill run."""

    files: int = 0  # files to read
    files_done: int = 0  # read to their end (shipped or skipped)
    files_skipped: int = 0  # already shipped (by the daemon or an earlier backfill)
    files_left: int = 0  # the daemon's to read (from its resume point on)
    files_empty: int = 0  # no bytes at all (a .gz of nothing too)
    cut_short: list[tuple[str, int]] = field(default_factory=list)  # (path, bytes read)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    bytes_total: int = 0  # on disk
    bytes_read: int = 0  # on disk, of the files finished so far
    lines: int = 0
    entries: int = 0  # parsed (after the resume offset)
    filtered: int = 0
    tags: Counter[str] = field(default_factory=Counter)
    sent: int = 0
    dead_lettered: int = 0
    spooled: int = 0
    interrupted: bool = False
    started: float = field(default_factory=time.monotonic)

    def add_file(self, result: FileResult) -> None:
        """Count one finished (or failed) file."""
        self.bytes_read += result.size
        self.lines += result.lines
        self.entries += result.entries
        self.filtered += result.filtered
        self.tags.update(result.tags)
        if result.error is not None:
            self.failures.append((str(result.path), result.error))
            return
        self.files_done += 1
        if result.cut_short:
            self.cut_short.append((str(result.path), result.end_offset))
        if result.skip_reason == SKIP_DAEMON:
            self.files_left += 1
        elif result.empty:
            self.files_empty += 1
        elif result.skipped:
            self.files_skipped += 1

    def exit_code(self) -> int:
        """0 all shipped, 1 a failure or dead letters, 130 interrupted."""
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_FAILED if self.failures or self.dead_lettered else EXIT_OK


def count_encoded(result: FileResult, metrics: Metrics) -> None:
    """Copy the tag and filtered counts an EntryEncoder kept in ``metrics`` to ``result``."""
    for tag, count in metrics.by_label(metrics.entries, "tag").items():
        result.tags[tag] = result.tags.get(tag, 0) + int(count)
    result.filtered += int(metrics.total(metrics.entries_filtered))


def format_summary(totals: Totals, *, dry_run: bool) -> str:
    """The summary printed at the end (counts, never the token)."""
    elapsed = time.monotonic() - totals.started
    rate = totals.lines / elapsed if elapsed > 0 else 0.0
    tags = ", ".join(f"{tag} {count:,}" for tag, count in sorted(totals.tags.items())) or "none"
    lines = [
        "backfill "
        + ("dry run " if dry_run else "")
        + ("interrupted" if totals.interrupted else "finished"),
        f"  files:        {totals.files_done:,} of {totals.files:,} read"
        f" ({totals.files_skipped:,} skipped as already shipped,"
        f" {totals.files_left:,} left to the daemon, {len(totals.failures):,} failed,"
        f" {totals.files_empty:,} empty, {len(totals.cut_short):,} cut short)",
        f"  lines:        {totals.lines:,} ({rate:,.0f} lines/s)",
        f"  entries:      {totals.entries:,} ({totals.filtered:,} filtered out)",
        f"  by tag:       {tags}",
    ]
    if dry_run:
        lines.append(f"  printed:      {totals.entries - totals.filtered:,}")
    else:
        lines.append(f"  spooled:      {totals.spooled:,}")
        lines.append(f"  sent:         {totals.sent:,}")
        lines.append(f"  dead-letter:  {totals.dead_lettered:,}")
    lines.append(f"  time:         {elapsed:,.1f} s")
    lines.extend(f"  FAILED {path}: {reason}" for path, reason in totals.failures)
    lines.extend(
        f"  CUT SHORT {path}: a gzip file that ends mid-stream; its first {read:,} bytes"
        " (decompressed) were read, what followed them is not in the file"
        for path, read in totals.cut_short
    )
    if totals.interrupted and not dry_run:
        lines.append("  what was read is in the spool: the next backfill or the daemon sends it")
    return "\n".join(lines)
