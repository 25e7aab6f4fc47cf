"""What the spool holds and how it is set up: its options, records and counters.

:class:`agent.state.spool.Spool` stores and hands out these; ``agent.state.spool``
re-exports them, so callers import them from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from agent.state.schema import record_size

DEFAULT_MAX_BYTES = 1024**3
SPOOL_FILE = "spool.sqlite3"


@dataclass(frozen=True, slots=True)
class SpoolOptions:
    """Where the spool lives and how big it may grow.

    The app fills it in one place, :func:`agent.app.wiring.spool_options`: ``path`` is
    ``[state] dir`` / :data:`SPOOL_FILE`, ``max_bytes`` is ``[spool] max_bytes``.
    ``synchronous`` is not a config key (bench/README.md "## ship" measures ``FULL``).
    """

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
