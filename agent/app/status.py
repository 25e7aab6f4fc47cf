"""``serverops-agent status``: what the agent is doing, read from its spool database.

Works while the daemon runs: the database is opened read-only (WAL lets a reader see the
last committed state without blocking the writer). Per server: entries pending, bytes of
log not yet read (lag), and the checkpoint; overall: dead-lettered entries and what the
daemon last published about itself (last success, last error, sending paused and why).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from agent.app.config import AgentConfig, ServerConfig
from agent.errors import AgentError
from agent.parse.fingerprint import FINGERPRINT_BYTES, matches
from agent.state.spool import SPOOL_FILE

STALE_AFTER_SECONDS = 60.0  # the daemon publishes every few seconds; older means not running


@dataclass(slots=True)
class ServerStatus:
    """One server's position: what is read, what waits to be sent."""

    server_id: str
    log: Path
    pending: int = 0
    checkpoint_offset: int | None = None
    file_size: int | None = None  # None: the log file does not exist or cannot be read
    same_file: bool = False  # the checkpoint is in the current log file (no rotation since)

    @property
    def lag_bytes(self) -> int | None:
        """Bytes of the current log file not read yet (None when unknown)."""
        if self.file_size is None:
            return None
        if self.same_file and self.checkpoint_offset is not None:
            return max(self.file_size - self.checkpoint_offset, 0)
        return self.file_size


@dataclass(slots=True)
class StatusReport:
    """Everything ``status`` prints."""

    database: Path
    servers: list[ServerStatus]
    pending: int = 0
    spool_bytes: int = 0
    dead_lettered: int = 0
    daemon: dict[str, str] = field(default_factory=dict)
    daemon_updated: float | None = None

    @property
    def daemon_running(self) -> bool:
        """True when the daemon published its state recently."""
        return self.daemon_updated is not None and (
            time.time() - self.daemon_updated < STALE_AFTER_SECONDS
        )


def read_status(config: AgentConfig) -> StatusReport:
    """Read the spool database (read-only) and the log files' sizes."""
    path = config.state.dir / SPOOL_FILE
    if not path.exists():
        raise AgentError(f"{path}: no spool database yet (the agent has not run here)")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as exc:
        raise AgentError(f"{path}: cannot open the spool database: {exc}") from exc
    try:
        return _report(db, path, config.servers)
    except sqlite3.Error as exc:
        raise AgentError(f"{path}: cannot read the spool database: {exc}") from exc
    finally:
        db.close()


def _report(db: sqlite3.Connection, path: Path, servers: list[ServerConfig]) -> StatusReport:
    pending = dict(db.execute("SELECT server_id, COUNT(*) FROM entries GROUP BY server_id"))
    spool_bytes = db.execute("SELECT COALESCE(SUM(LENGTH(body)), 0) FROM entries").fetchone()[0]
    counters = dict(db.execute("SELECT name, value FROM counters"))
    daemon_rows = db.execute("SELECT key, value, updated FROM agent_status").fetchall()
    report = StatusReport(
        database=path,
        servers=[],
        pending=sum(pending.values()),
        spool_bytes=spool_bytes,
        dead_lettered=int(counters.get("dead_lettered", 0)),
        daemon={key: value for key, value, _ in daemon_rows},
        daemon_updated=max((updated for *_, updated in daemon_rows), default=None),
    )
    for server in servers:
        report.servers.append(_server_status(db, server, pending.get(server.id, 0)))
    return report


def _server_status(db: sqlite3.Connection, server: ServerConfig, pending: int) -> ServerStatus:
    status = ServerStatus(server.id, server.log, pending=pending)
    row = db.execute(
        "SELECT fingerprint, offset FROM checkpoints WHERE server_id = ?"
        " ORDER BY updated DESC LIMIT 1",
        (server.id,),
    ).fetchone()
    try:
        with server.log.open("rb") as file:
            head = file.read(FINGERPRINT_BYTES)
            status.file_size = file.seek(0, 2)
    except OSError:
        return status
    if row is not None:
        status.checkpoint_offset = row[1]
        status.same_file = matches(row[0], head)
    return status


def format_report(report: StatusReport) -> str:
    """The human-readable status text."""
    daemon = report.daemon
    state = "running" if report.daemon_running else "not running (no recent heartbeat)"
    lines = [
        f"daemon:        {state}",
        f"spool:         {report.pending} entries pending, {report.spool_bytes} bytes "
        f"({report.database})",
        f"dead-lettered: {report.dead_lettered}",
        f"last success:  {daemon.get('last_success', 'never')}",
        f"last error:    {daemon.get('last_error', 'none')}",
        f"sending:       {'paused: ' + daemon['paused'] if daemon.get('paused') else 'active'}",
    ]
    for server in report.servers:
        lag = "log file missing" if server.lag_bytes is None else f"{server.lag_bytes} bytes"
        lines.append(
            f"server {server.server_id}: {server.pending} pending, lag {lag}, log {server.log}"
        )
    return "\n".join(lines)
