"""The spool: entries waiting for the API, on disk in SQLite, with the source checkpoints.

Invariants kept here (shared/DESIGN.md 1–3):

* :meth:`Spool.append` stores a batch of records **and** the checkpoint they complete in
  one transaction, so after a crash either both are there or neither is (the tailer then
  re-reads the same lines from the old checkpoint: nothing lost, nothing doubled).
* A record leaves the spool only through :meth:`Spool.ack` (the API accepted it) or
  :meth:`Spool.dead_letter` (the caller wrote it to the dead-letter file first).
* A server's parse context (a JSON-able dict: UUIDs, online players) given to
  :meth:`Spool.append` commits with its checkpoint; :meth:`Spool.server_context` reads it.
* The spool has a byte cap. :meth:`append` never refuses what it is given (the caller
  already read those lines), but reports whether there is room left; the tailer stops
  reading while :meth:`has_room` is False, so the log file is the buffer and memory and
  disk stay bounded.
* Fairness between servers: each server's share of the cap and its turns when taken
  are :class:`agent.state.shares.ServerShares`.

Durability: WAL with ``synchronous=NORMAL`` by default. A process crash (kill -9) loses
no committed transaction in WAL mode whatever the setting; a power cut can lose the last
transactions, and because entries and their checkpoint commit together that only rewinds
both (the lines are read again) or forgets an ack (one duplicate, same event_id).
``FULL`` fsyncs every commit; bench/README.md "## ship" has the measured cost.

Row ids come from ``AUTOINCREMENT`` so they only grow: the uploader takes each server's
records "after the last id it took of that server" and may rely on that even when the
table was emptied.

The tables, the schema version and the figures a read-only reader must compute the same
way (bytes against the cap, latest checkpoint, dead-letter count) are in ``schema.py``;
``status`` reads through :class:`agent.state.spool_reader.SpoolReader`.
"""

from __future__ import annotations

import itertools
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from agent import events
from agent.errors import SpoolError
from agent.metrics import Metrics
from agent.model import Checkpoint
from agent.state import checkpoints, schema
from agent.state.records import (
    DEFAULT_MAX_BYTES,
    SPOOL_FILE,
    Record,
    SpooledRecord,
    SpoolOptions,
    SpoolStats,
)
from agent.state.schema import SCHEMA_VERSION, record_size
from agent.state.shares import ServerShares
from agent.state.statedir import write_failure

__all__ = [
    "DEFAULT_MAX_BYTES",
    "SCHEMA_VERSION",
    "SPOOL_FILE",
    "Record",
    "Spool",
    "SpoolOptions",
    "SpoolStats",
    "SpooledRecord",
    "record_size",
]

log = logging.getLogger(__name__)

# One delivery: records, the checkpoint they complete, the parse context at it (or None).
Delivery = tuple[Iterable[Record], Checkpoint | None, Mapping[str, Any] | None]


class Spool:
    """A thread-safe SQLite spool; the tailer appends from its thread, the uploader acks."""

    def __init__(self, options: SpoolOptions, metrics: Metrics | None = None) -> None:
        self.options = options
        self._metrics = metrics or Metrics()
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        self._db = schema.open_database(options.path, options.synchronous)
        self._depth, self._bytes = schema.count_entries(self._db)
        self._shares = ServerShares(schema.bytes_by_server(self._db))
        self._full = self._bytes >= options.max_bytes  # a full spool stays full on reopen
        self._listeners: list[Callable[[], None]] = []
        self._update_gauges()

    # -- writing (the tailer's side) ------------------------------------------------

    def append(
        self,
        records: Iterable[Record],
        checkpoint: Checkpoint | None,
        *,
        as_latest: bool = True,
        context: Mapping[str, Any] | None = None,
    ) -> bool:
        """Store records and the checkpoint they complete in one transaction.

        Returns :meth:`has_room` afterwards: False means the caller must stop reading
        (``wait_for_room``) until the uploader drained some of the spool. ``as_latest=False``
        (backfill of old files) saves the checkpoint without making it the server's most
        recent one, so the daemon's resume point (:meth:`checkpoint`) does not move.
        ``context`` (JSON-able) is the server's parse context at ``checkpoint``; it replaces
        the stored one in the same transaction. It needs a checkpoint that becomes the
        latest (the context belongs to the resume point).
        """
        if context is not None and (checkpoint is None or not as_latest):
            raise ValueError("a parse context is stored only with the latest checkpoint")
        return self.append_batch([(records, checkpoint, context)], as_latest=as_latest)

    def append_batch(self, batch: Sequence[Delivery], *, as_latest: bool = True) -> bool:
        """:meth:`append` of several deliveries (of any servers) in one transaction, in
        order: the tailer's one commit per wake-up."""
        each = [[(r.event_id, r.server_id, r.body) for r in records] for records, _, _ in batch]
        rows = [row for rows_of_one in each for row in rows_of_one]
        added = sum(record_size(*row) for row in rows)
        with self._lock:
            try:
                with self._db:
                    self._db.executemany(
                        "INSERT INTO entries (event_id, server_id, body) VALUES (?, ?, ?)", rows
                    )
                    last_id = self._db.execute("SELECT last_insert_rowid()").fetchone()[0]
                    for _, checkpoint, context in batch:
                        if checkpoint is not None:
                            checkpoints.save(self._db, checkpoint, as_latest=as_latest)
                        if context is not None and checkpoint is not None:
                            schema.save_context(self._db, checkpoint.server_id, context)
            except sqlite3.Error as exc:
                why = write_failure(exc, self.options.path)
                raise SpoolError(f"spool: cannot append to {self.options.path}: {why}") from exc
            except (TypeError, ValueError) as exc:  # a context that is not JSON-able: a bug
                raise SpoolError(f"spool: cannot append to {self.options.path}: {exc}") from exc
            self._depth += len(rows)
            self._bytes += added
            self._count_appended(rows, last_id)
            if log.isEnabledFor(logging.DEBUG):
                for (_, cp, _), rows_of_one in zip(batch, each, strict=True):
                    if cp is not None:
                        log.debug(
                            "%s: %s %s at offset %d with %d entries",
                            *(events.SPOOL_CHECKPOINT, cp.server_id, cp.fingerprint),
                            *(cp.offset, len(rows_of_one)),
                        )
            self._metrics.entries_spooled.inc(len(rows))
            self._check_full()
            room = not self._full
        if rows:
            for listener in self._listeners:
                listener()
        return room

    def save_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Store a checkpoint alone (lines read that produced no entry, e.g. filtered)."""
        self.append((), checkpoint)

    def publish_status(self, values: dict[str, str], now: float) -> None:
        """Record the daemon's state (last success, last error, pause) for ``status``."""
        with self._lock:
            try:
                with self._db:
                    schema.save_status(self._db, values, now)
            except sqlite3.Error as exc:
                raise SpoolError(
                    f"spool: cannot write status to {self.options.path}: {exc}"
                ) from exc

    def has_room(self, server_id: str | None = None) -> bool:
        """True while the spool holds less than its byte cap, or ``server_id`` less than
        its share of it (module docstring)."""
        with self._lock:
            if not self._full:
                return True
            return server_id is not None and self._shares.below_share(
                server_id, self.options.max_bytes
            )

    def wait_for_room(self, timeout: float | None = None) -> bool:
        """Block until the spool has room or records were removed (a server may be below
        its share again), or timeout; returns :meth:`has_room`."""
        with self._room:
            if self._full:
                self._room.wait(timeout)
            return not self._full

    def add_listener(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (from the appending thread) after each append of records."""
        self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[], None]) -> None:
        """Stop calling ``callback``."""
        self._listeners.remove(callback)

    # -- checkpoints ------------------------------------------------------------------

    def checkpoint(self, server_id: str) -> Checkpoint | None:
        """The most recently stored checkpoint of a server (the file it was reading last)."""
        with self._lock:
            return schema.latest_checkpoint(self._db, server_id)

    def checkpoint_for(self, server_id: str, fingerprint: str) -> Checkpoint | None:
        """The stored checkpoint of one file of a server, known by its fingerprint."""
        with self._lock:
            return checkpoints.for_file(self._db, server_id, fingerprint)

    def checkpoints(self, server_id: str) -> list[Checkpoint]:
        """Every stored checkpoint of a server (backfill matches short fingerprints)."""
        with self._lock:
            return checkpoints.of_server(self._db, server_id)

    def server_context(self, server_id: str) -> dict[str, Any] | None:
        """The parse context stored with the server's latest checkpoint (None: none, or a
        damaged one, logged: the context is then rebuilt from the logs)."""
        with self._lock:
            try:
                return schema.load_context(self._db, server_id)
            except ValueError as exc:
                log.warning(
                    "%s: %s: the stored parse context is unreadable (%s); starting without it",
                    events.CONTEXT_UNREADABLE,
                    server_id,
                    exc,
                )
                return None

    # -- reading and removing (the uploader's side) ---------------------------------

    def take(self, limit: int, after_id: int = 0) -> list[SpooledRecord]:
        """Up to ``limit`` records with ids above ``after_id``, oldest first (not removed)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, event_id, server_id, body FROM entries WHERE id > ?"
                " ORDER BY id LIMIT ?",
                (after_id, limit),
            ).fetchall()
        return [SpooledRecord(*row) for row in rows]

    def take_fair(self, limit: int, cursors: dict[str, int]) -> list[SpooledRecord]:
        """Up to ``limit`` records not taken yet, each server getting its turn.

        ``cursors`` holds, per server, the id of its last record taken; it is updated,
        and servers with nothing spooled are dropped from it (so it stays bounded). The
        servers with records after their cursor share ``limit`` (at least one record
        each, those with the oldest record first); the batch alternates between them, so
        a server with a million records spooled delays another's by one turn at most.
        """
        with self._lock:
            ready = self._shares.ready(cursors)
            if not ready:
                return []
            share = max(1, limit // len(ready))
            turns = [self._take_server(s, after, share) for after, s in ready[:limit]]
        batch = [record for round_ in itertools.zip_longest(*turns) for record in round_ if record]
        for records in turns:
            if records:
                cursors[records[-1].server_id] = records[-1].id
        return batch

    def _take_server(self, server_id: str, after_id: int, limit: int) -> list[SpooledRecord]:
        rows = self._db.execute(
            "SELECT id, event_id, server_id, body FROM entries"
            " WHERE server_id = ? AND id > ? ORDER BY id LIMIT ?",
            (server_id, after_id, limit),
        ).fetchall()
        return [SpooledRecord(*row) for row in rows]

    def ack(self, records: Sequence[SpooledRecord]) -> None:
        """Remove records the API accepted (one transaction)."""
        self._remove(records, dead_lettered=False)

    def dead_letter(self, records: Sequence[SpooledRecord]) -> None:
        """Remove records already written to the dead-letter file, and count them."""
        self._remove(records, dead_lettered=True)

    def stats(self) -> SpoolStats:
        """Depth, bytes and the persistent dead-letter count."""
        with self._lock:
            dead = schema.dead_lettered(self._db)
            return SpoolStats(self._depth, self._bytes, self.options.max_bytes, dead)

    def close(self) -> None:
        """Close the database (committed work is already durable)."""
        with self._lock:
            self._db.close()

    # -- internals --------------------------------------------------------------------

    def _remove(self, records: Sequence[SpooledRecord], *, dead_lettered: bool) -> None:
        if not records:
            return
        ids = [(r.id,) for r in records]
        with self._lock:
            try:
                with self._db:
                    cursor = self._db.executemany("DELETE FROM entries WHERE id = ?", ids)
                    if dead_lettered:
                        self._db.execute(
                            "INSERT INTO counters (name, value) VALUES (?, ?)"
                            " ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
                            (schema.DEAD_LETTERED, len(ids)),
                        )
            except sqlite3.Error as exc:
                why = write_failure(exc, self.options.path)
                raise SpoolError(f"spool: cannot remove from {self.options.path}: {why}") from exc
            if cursor.rowcount == len(ids):
                self._depth -= len(ids)
                self._bytes -= sum(r.size for r in records)
                self._shares.removed((r.server_id, r.size) for r in records)
            else:  # acked twice (cannot happen through the uploader): recount
                self._recount()
            self._check_full()
            if self._full:
                self._room.notify_all()  # a server may be below its share again

    def _recount(self) -> None:
        self._depth, self._bytes = schema.count_entries(self._db)
        self._shares = ServerShares(schema.bytes_by_server(self._db))

    def _count_appended(self, rows: Sequence[tuple[str, str, bytes]], last_id: int) -> None:
        for server_id, count in self._shares.appended(rows, last_id).items():
            self._metrics.server_entries_spooled.labels(server_id).inc(count)

    def _check_full(self) -> None:
        """Flip the full flag (caller holds the lock); warn once per episode."""
        full = self._bytes >= self.options.max_bytes
        if full and not self._full:
            log.warning(
                "%s: spool holds %d bytes (cap %d); reading pauses until entries are sent",
                events.SPOOL_FULL,
                self._bytes,
                self.options.max_bytes,
            )
        elif self._full and not full:
            log.info("%s: spool below its cap again; reading resumes", events.SPOOL_ROOM)
            self._room.notify_all()
        self._full = full
        self._update_gauges()

    def _update_gauges(self) -> None:
        self._metrics.spool_depth.set(self._depth)
        self._metrics.spool_bytes.set(self._bytes)
        self._metrics.spool_full.set(1 if self._full else 0)
