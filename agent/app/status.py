"""``serverops-agent status``: what the agent is doing, read from its spool database.

Works while the daemon runs: the database is opened read-only through
:class:`agent.state.spool_reader.SpoolReader`, which counts with the spool's own queries (so the
bytes shown are the bytes the cap counts). No SQL here. Per server: entries pending, bytes of
log not yet read (lag), and the checkpoint, for every server the config stands for (each
file a ``log`` glob matches now, with its filled id); overall: dead-lettered entries and what the
daemon last published about itself (last success, last error, sending paused and why).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from agent.app.config import AgentConfig
from agent.app.wiring import spool_options
from agent.model import Checkpoint
from agent.parse.fingerprint import FINGERPRINT_BYTES, matches
from agent.sources import globs
from agent.state.spool_reader import SpoolReader

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
    """Read the spool database (read-only, through its own reader) and the log files' sizes."""
    options = spool_options(config)
    path = options.path
    with SpoolReader.open(path, max_bytes=options.max_bytes) as spool:
        stats = spool.stats()
        pending = spool.pending_by_server()
        daemon = spool.daemon_status()
        found = globs.expand([(server.id, server.log) for server in config.servers]).matches
        checkpoints = {match.server_id: spool.checkpoint(match.server_id) for match in found}
    return StatusReport(
        database=path,
        servers=[
            _server_status(
                match.server_id,
                match.path,
                pending.get(match.server_id, 0),
                checkpoints[match.server_id],
            )
            for match in found
        ],
        pending=stats.depth,
        spool_bytes=stats.bytes,
        dead_lettered=stats.dead_lettered,
        daemon=daemon.values,
        daemon_updated=daemon.updated,
    )


def _server_status(
    server_id: str, log: Path, pending: int, checkpoint: Checkpoint | None
) -> ServerStatus:
    status = ServerStatus(server_id, log, pending=pending)
    try:
        with log.open("rb") as file:
            head = file.read(FINGERPRINT_BYTES)
            status.file_size = file.seek(0, 2)
    except OSError:
        return status
    if checkpoint is not None:
        status.checkpoint_offset = checkpoint.offset
        status.same_file = matches(checkpoint.fingerprint, head)
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
