"""A read-only view of a spool database, for ``serverops-agent status`` and ``backfill``.

The daemon keeps the database open for writing; another process may still read it: WAL
lets a read-only connection see the last committed state without blocking the writer.
Every figure comes from the queries in :mod:`agent.state.schema` that
:class:`agent.state.spool.Spool` itself runs, so ``status`` and the spool agree on what
"bytes" and "latest checkpoint" mean (the cap is counted by :func:`schema.record_size`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from agent.errors import SpoolError
from agent.model import Checkpoint
from agent.state import schema
from agent.state.spool import DEFAULT_MAX_BYTES, SpoolStats

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DaemonStatus:
    """What the daemon last published (:meth:`Spool.publish_status`), and when."""

    values: dict[str, str] = field(default_factory=dict)
    updated: float | None = None  # Unix time of the newest row; None: never published


class SpoolReader:
    """Read-only access to a spool database; open with :meth:`open`, use as a context."""

    def __init__(self, db: sqlite3.Connection, path: Path, max_bytes: int) -> None:
        self._db = db
        self.path = path
        self._max_bytes = max_bytes

    @classmethod
    def open(cls, path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> SpoolReader:
        """Open an existing spool read-only; a missing one is a :class:`SpoolError` that says
        the agent has not run here. ``max_bytes`` is the configured cap, for :meth:`stats`."""
        return cls(schema.open_read_only(path), path, max_bytes)

    def stats(self) -> SpoolStats:
        """Depth, bytes and dead-letter count, exactly as :meth:`Spool.stats` reports them."""

        def read(db: sqlite3.Connection) -> SpoolStats:
            depth, size = schema.count_entries(db)
            return SpoolStats(depth, size, self._max_bytes, schema.dead_lettered(db))

        return self._read(read)

    def pending_by_server(self) -> dict[str, int]:
        """Records waiting to be sent, per server (a server with none is absent)."""
        return self._read(schema.pending_by_server)

    def checkpoint(self, server_id: str) -> Checkpoint | None:
        """The server's latest checkpoint, as :meth:`Spool.checkpoint` returns it."""
        return self._read(lambda db: schema.latest_checkpoint(db, server_id))

    def daemon_status(self) -> DaemonStatus:
        """The rows the daemon published about itself (pid, last success, last error...)."""
        rows = self._read(
            lambda db: db.execute("SELECT key, value, updated FROM agent_status").fetchall()
        )
        return DaemonStatus(
            {key: value for key, value, _ in rows},
            max((updated for *_, updated in rows), default=None),
        )

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> SpoolReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        """Run one query; sqlite3 errors become a SpoolError naming the file."""
        try:
            return query(self._db)
        except sqlite3.Error as exc:
            raise SpoolError(f"{self.path}: cannot read the spool database: {exc}") from exc
