"""The spool: entries waiting for the API, on disk in SQLite, with the source checkpoints.

Invariants kept here (shared/DESIGN.md 1–3):

* :meth:`Spool.append` stores a batch of records **and** the checkpoint they complete in
  one transaction, so after a crash either both are there or neither is (the tailer then
  re-reads the same lines from the old checkpoint: nothing lost, nothing doubled).
* A record leaves the spool only through :meth:`Spool.ack` (the API accepted it) or
  :meth:`Spool.dead_letter` (the caller wrote it to the dead-letter file first).
* The spool has a byte cap. :meth:`append` never refuses what it is given (the caller
  already read those lines), but reports whether there is room left; the tailer stops
  reading while :meth:`has_room` is False, so the log file is the buffer and memory and
  disk stay bounded.

Durability: WAL with ``synchronous=NORMAL`` by default. A process crash (kill -9) loses
no committed transaction in WAL mode whatever the setting; a power cut can lose the last
transactions, and because entries and their checkpoint commit together that only rewinds
both (the lines are read again) or forgets an ack (one duplicate, same event_id).
``FULL`` fsyncs every commit; bench/README.md "## ship" has the measured cost.

Row ids come from ``AUTOINCREMENT`` so they only grow: the uploader takes records "after
the last id it took" and may rely on that even when the table was emptied.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from agent import events
from agent.errors import SpoolError
from agent.metrics import Metrics
from agent.model import Checkpoint

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
DEFAULT_MAX_BYTES = 1024**3
ROW_OVERHEAD = 48  # rough per-row cost in the b-tree, so tiny bodies still count
SPOOL_FILE = "spool.sqlite3"

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS entries (
           id INTEGER PRIMARY KEY AUTOINCREMENT,
           event_id TEXT NOT NULL,
           server_id TEXT NOT NULL,
           body BLOB NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS checkpoints (
           server_id TEXT NOT NULL,
           fingerprint TEXT NOT NULL,
           offset INTEGER NOT NULL,
           updated INTEGER NOT NULL,
           PRIMARY KEY (server_id, fingerprint))""",
    """CREATE TABLE IF NOT EXISTS counters (
           name TEXT PRIMARY KEY,
           value INTEGER NOT NULL)""",
    # What the running daemon last said about itself, for `serverops-agent status`.
    """CREATE TABLE IF NOT EXISTS agent_status (
           key TEXT PRIMARY KEY,
           value TEXT NOT NULL,
           updated REAL NOT NULL)""",
)


@dataclass(frozen=True, slots=True)
class SpoolOptions:
    """What a later config.py fills from ``[state] dir`` and ``[spool]``."""

    path: Path
    max_bytes: int = DEFAULT_MAX_BYTES
    synchronous: Literal["NORMAL", "FULL"] = "NORMAL"


@dataclass(frozen=True, slots=True)
class Record:
    """One spooled entry: the encoded POST /logs body and the ids needed to send it."""

    event_id: str
    server_id: str
    body: bytes


@dataclass(frozen=True, slots=True)
class SpooledRecord:
    """A record as stored, with its spool row id (what :meth:`Spool.ack` takes)."""

    id: int
    event_id: str
    server_id: str
    body: bytes

    @property
    def size(self) -> int:
        """Bytes this record counts against the spool cap."""
        return record_size(self.event_id, self.server_id, self.body)


@dataclass(frozen=True, slots=True)
class SpoolStats:
    """Counters for ``status`` and metrics."""

    depth: int
    bytes: int
    max_bytes: int
    dead_lettered: int


def record_size(event_id: str, server_id: str, body: bytes) -> int:
    """Bytes one record counts against the cap (payload plus a fixed row overhead)."""
    return len(body) + len(event_id) + len(server_id) + ROW_OVERHEAD


class Spool:
    """A thread-safe SQLite spool; the tailer appends from its thread, the uploader acks."""

    def __init__(self, options: SpoolOptions, metrics: Metrics | None = None) -> None:
        self.options = options
        self._metrics = metrics or Metrics()
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        self._db = _open(options.path, options.synchronous)
        self._depth, self._bytes = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(body) + LENGTH(event_id)"
            " + LENGTH(server_id)), 0) FROM entries"
        ).fetchone()
        self._bytes += self._depth * ROW_OVERHEAD
        self._full = False
        self._listeners: list[Callable[[], None]] = []
        self._update_gauges()

    # -- writing (the tailer's side) ------------------------------------------------

    def append(
        self, records: Iterable[Record], checkpoint: Checkpoint | None, *, as_latest: bool = True
    ) -> bool:
        """Store records and the checkpoint they complete in one transaction.

        Returns :meth:`has_room` afterwards: False means the caller must stop reading
        (``wait_for_room``) until the uploader drained some of the spool. ``as_latest=False``
        (backfill of old files) saves the checkpoint without making it the server's most
        recent one, so the daemon's resume point (:meth:`checkpoint`) does not move.
        """
        rows = [(r.event_id, r.server_id, r.body) for r in records]
        added = sum(record_size(*row) for row in rows)
        with self._lock:
            try:
                with self._db:
                    self._db.executemany(
                        "INSERT INTO entries (event_id, server_id, body) VALUES (?, ?, ?)", rows
                    )
                    if checkpoint is not None:
                        self._save_checkpoint(checkpoint, as_latest=as_latest)
            except sqlite3.Error as exc:
                raise SpoolError(f"spool: cannot append to {self.options.path}: {exc}") from exc
            self._depth += len(rows)
            self._bytes += added
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
        rows = [(key, value, now) for key, value in values.items()]
        with self._lock:
            try:
                with self._db:
                    self._db.executemany(
                        "INSERT INTO agent_status (key, value, updated) VALUES (?, ?, ?)"
                        " ON CONFLICT (key) DO UPDATE"
                        " SET value = excluded.value, updated = excluded.updated",
                        rows,
                    )
            except sqlite3.Error as exc:
                raise SpoolError(
                    f"spool: cannot write status to {self.options.path}: {exc}"
                ) from exc

    def has_room(self) -> bool:
        """True while the spool holds less than its byte cap."""
        with self._lock:
            return not self._full

    def wait_for_room(self, timeout: float | None = None) -> bool:
        """Block until the spool has room (or timeout); returns :meth:`has_room`."""
        with self._room:
            self._room.wait_for(lambda: not self._full, timeout)
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
            row = self._db.execute(
                "SELECT fingerprint, offset FROM checkpoints WHERE server_id = ?"
                " ORDER BY updated DESC LIMIT 1",
                (server_id,),
            ).fetchone()
        return Checkpoint(server_id, row[0], row[1]) if row else None

    def checkpoint_for(self, server_id: str, fingerprint: str) -> Checkpoint | None:
        """The stored checkpoint of one file of a server, known by its fingerprint."""
        with self._lock:
            row = self._db.execute(
                "SELECT offset FROM checkpoints WHERE server_id = ? AND fingerprint = ?",
                (server_id, fingerprint),
            ).fetchone()
        return Checkpoint(server_id, fingerprint, row[0]) if row else None

    def checkpoints(self, server_id: str) -> list[Checkpoint]:
        """Every stored checkpoint of a server (backfill matches short fingerprints)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT fingerprint, offset FROM checkpoints WHERE server_id = ?", (server_id,)
            ).fetchall()
        return [Checkpoint(server_id, row[0], row[1]) for row in rows]

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

    def ack(self, records: Sequence[SpooledRecord]) -> None:
        """Remove records the API accepted (one transaction)."""
        self._remove(records, dead_lettered=False)

    def dead_letter(self, records: Sequence[SpooledRecord]) -> None:
        """Remove records already written to the dead-letter file, and count them."""
        self._remove(records, dead_lettered=True)

    def stats(self) -> SpoolStats:
        """Depth, bytes and the persistent dead-letter count."""
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM counters WHERE name = 'dead_lettered'"
            ).fetchone()
            return SpoolStats(
                self._depth, self._bytes, self.options.max_bytes, row[0] if row else 0
            )

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
                            "INSERT INTO counters (name, value) VALUES ('dead_lettered', ?)"
                            " ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
                            (len(ids),),
                        )
            except sqlite3.Error as exc:
                raise SpoolError(f"spool: cannot remove from {self.options.path}: {exc}") from exc
            if cursor.rowcount == len(ids):
                self._depth -= len(ids)
                self._bytes -= sum(r.size for r in records)
            else:  # acked twice (cannot happen through the uploader): recount
                self._recount()
            self._check_full()

    def _save_checkpoint(self, checkpoint: Checkpoint, *, as_latest: bool = True) -> None:
        if not as_latest:
            # A new row sorts before every other; an existing row keeps its place.
            self._db.execute(
                "INSERT INTO checkpoints (server_id, fingerprint, offset, updated)"
                " VALUES (?, ?, ?, (SELECT COALESCE(MIN(updated), 0) - 1 FROM checkpoints))"
                " ON CONFLICT (server_id, fingerprint) DO UPDATE SET offset = excluded.offset",
                (checkpoint.server_id, checkpoint.fingerprint, checkpoint.offset),
            )
            return
        self._db.execute(
            "INSERT INTO checkpoints (server_id, fingerprint, offset, updated)"
            " VALUES (?, ?, ?, (SELECT COALESCE(MAX(updated), 0) + 1 FROM checkpoints))"
            " ON CONFLICT (server_id, fingerprint) DO UPDATE"
            " SET offset = excluded.offset, updated = excluded.updated",
            (checkpoint.server_id, checkpoint.fingerprint, checkpoint.offset),
        )

    def _recount(self) -> None:
        self._depth, self._bytes = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(body) + LENGTH(event_id)"
            " + LENGTH(server_id)), 0) FROM entries"
        ).fetchone()
        self._bytes += self._depth * ROW_OVERHEAD

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


def _open(path: Path, synchronous: str) -> sqlite3.Connection:
    """Open (creating 0600 in a 0700 directory) and migrate the spool database."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _create_private(path)  # SQLite gives -wal and -shm the database file's mode
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={synchronous}")
        db.isolation_level = "DEFERRED"
        _migrate(db, path)
    except (OSError, sqlite3.Error) as exc:
        raise SpoolError(f"spool: cannot open {path}: {exc}") from exc
    return db


def _create_private(path: Path) -> None:
    """Create the file with mode 0600 before SQLite does (SQLite would use the umask)."""
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    path.chmod(0o600)


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise SpoolError(
            f"spool: {path} has schema version {version}, newer than this agent's "
            f"{SCHEMA_VERSION}; upgrade the agent or move the file away"
        )
    with db:
        for statement in _SCHEMA:
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
