"""The spool database's layout: tables, version, opening, and the queries both sides run.

Two kinds of connection use this file: :class:`agent.state.spool.Spool` (the daemon's or
the backfill's, read-write) and :class:`agent.state.spool_reader.SpoolReader` (``status``,
read-only, while the daemon runs). Whatever both of them compute is defined here once, so
they cannot disagree: the bytes a record counts against the cap (:func:`record_size` and
its SQL mirror in :func:`count_entries`), a server's latest checkpoint, and the
dead-letter count.

Versioning (STYLE.md habit 4): ``PRAGMA user_version`` holds :data:`SCHEMA_VERSION`. A
newer database is refused untouched; an older one is brought up to date in one
transaction by :func:`migrate`.

Versions: 1 as first shipped; 2 adds ``server_contexts`` (the per-server parse context,
:class:`agent.parse.reader.ServerContext`, as of the server's latest checkpoint). The
migration from 1 creates the table empty: a context is then rebuilt from the logs as
before, and saved with the next checkpoint that changes it.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agent.errors import SpoolError
from agent.model import Checkpoint
from agent.state.statedir import ensure_state_dir

SCHEMA_VERSION = 2
ROW_OVERHEAD = 48  # rough per-row cost in the b-tree, so tiny bodies still count

_TABLES = (
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
    # Version 2. One row per server: its parse context (JSON) at its latest checkpoint,
    # written in the checkpoint's transaction whenever it changed.
    """CREATE TABLE IF NOT EXISTS server_contexts (
           server_id TEXT PRIMARY KEY,
           snapshot TEXT NOT NULL)""",
    # Each server's records in id order: the uploader takes them server by server (fairness).
    "CREATE INDEX IF NOT EXISTS entries_by_server ON entries (server_id, id)",
    # Every checkpoint saved asks MAX(updated) (checkpoints.save): without this index that
    # is a scan of a table that only grows (a row per file, and per widened fingerprint of
    # a short file): 833 us per save at 7,600 rows, 93 us with it (bench/README.md "## host").
    "CREATE INDEX IF NOT EXISTS checkpoints_by_updated ON checkpoints (updated)",
)

# The SQL twin of record_size(): LENGTH() counts a BLOB's bytes and a TEXT's characters,
# as len() does for bytes and str.
_RECORD_SIZE_SQL = "LENGTH(body) + LENGTH(event_id) + LENGTH(server_id) + " + str(ROW_OVERHEAD)
DEAD_LETTERED = "dead_lettered"  # the counters row


def record_size(event_id: str, server_id: str, body: bytes) -> int:
    """Bytes one record counts against the cap (payload plus a fixed row overhead)."""
    return len(body) + len(event_id) + len(server_id) + ROW_OVERHEAD


def count_entries(db: sqlite3.Connection) -> tuple[int, int]:
    """(records, bytes) in the spool, bytes as :func:`record_size` counts them."""
    depth, size = db.execute(
        f"SELECT COUNT(*), COALESCE(SUM({_RECORD_SIZE_SQL}), 0) FROM entries"
    ).fetchone()
    return int(depth), int(size)


def pending_by_server(db: sqlite3.Connection) -> dict[str, int]:
    """Records waiting in the spool, per server_id (servers with none are absent)."""
    return dict(db.execute("SELECT server_id, COUNT(*) FROM entries GROUP BY server_id"))


def bytes_by_server(db: sqlite3.Connection) -> list[tuple[str, int, int]]:
    """(server_id, bytes as :func:`record_size` counts them, highest id) per server."""
    return db.execute(
        f"SELECT server_id, SUM({_RECORD_SIZE_SQL}), MAX(id) FROM entries GROUP BY server_id"
    ).fetchall()


def latest_checkpoint(db: sqlite3.Connection, server_id: str) -> Checkpoint | None:
    """The most recently stored checkpoint of a server (the file it was reading last)."""
    row = db.execute(
        "SELECT fingerprint, offset FROM checkpoints WHERE server_id = ?"
        " ORDER BY updated DESC LIMIT 1",
        (server_id,),
    ).fetchone()
    return Checkpoint(server_id, row[0], row[1]) if row else None


def save_context(db: sqlite3.Connection, server_id: str, context: Mapping[str, Any]) -> None:
    """Replace a server's stored parse context (inside the caller's transaction).

    Raises TypeError or ValueError when ``context`` is not JSON-able.
    """
    text = json.dumps(context, ensure_ascii=False, separators=(",", ":"))
    db.execute(
        "INSERT INTO server_contexts (server_id, snapshot) VALUES (?, ?)"
        " ON CONFLICT (server_id) DO UPDATE SET snapshot = excluded.snapshot",
        (server_id, text),
    )


def load_context(db: sqlite3.Connection, server_id: str) -> dict[str, Any] | None:
    """A server's stored parse context (None: none stored); ValueError if the stored text
    is not a JSON object (a damaged row)."""
    row = db.execute(
        "SELECT snapshot FROM server_contexts WHERE server_id = ?", (server_id,)
    ).fetchone()
    if row is None:
        return None
    try:
        context = json.loads(row[0])
    except TypeError as exc:  # SQLite keeps any type: a number or NULL written by hand
        raise ValueError(str(exc)) from None
    if not isinstance(context, dict):
        raise ValueError(f"not a JSON object: {type(context).__name__}")
    return context


def save_status(db: sqlite3.Connection, values: Mapping[str, str], now: float) -> None:
    """Upsert the daemon's state rows (read by ``status``)."""
    db.executemany(
        "INSERT INTO agent_status (key, value, updated) VALUES (?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated = excluded.updated",
        [(key, value, now) for key, value in values.items()],
    )


def dead_lettered(db: sqlite3.Connection) -> int:
    """Records removed as refused for good, over the spool's whole life."""
    row = db.execute("SELECT value FROM counters WHERE name = ?", (DEAD_LETTERED,)).fetchone()
    return int(row[0]) if row else 0


def open_database(path: Path, synchronous: str) -> sqlite3.Connection:
    """Open read-write (creating 0600 in a 0700 state directory) and migrate."""
    ensure_state_dir(path.parent)
    try:
        _create_private(path)  # SQLite gives -wal and -shm the database file's mode
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={synchronous}")
        db.isolation_level = "DEFERRED"
        migrate(db, path)
    except (OSError, sqlite3.Error) as exc:
        raise SpoolError(f"spool: cannot open {path}: {exc}") from exc
    return db


def open_read_only(path: Path) -> sqlite3.Connection:
    """Open an existing database read-only (WAL: sees the last commit, blocks no writer)."""
    if not path.exists():
        raise SpoolError(f"{path}: no spool database yet (the agent has not run here)")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5, check_same_thread=False)
        version = db.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error as exc:
        raise SpoolError(f"{path}: cannot open the spool database: {exc}") from exc
    if version > SCHEMA_VERSION:
        db.close()
        raise _newer(path, version)
    return db


def migrate(db: sqlite3.Connection, path: Path) -> None:
    """Create the missing tables and stamp the version; refuse a newer database."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise _newer(path, version)
    with db:
        for statement in _TABLES:
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _newer(path: Path, version: int) -> SpoolError:
    return SpoolError(
        f"spool: {path} has schema version {version}, newer than this agent's "
        f"{SCHEMA_VERSION}; upgrade the agent or move the file away"
    )


def _create_private(path: Path) -> None:
    """Create the file with mode 0600 before SQLite does (SQLite would use the umask)."""
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    path.chmod(0o600)
