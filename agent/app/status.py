"""``serverops-agent status``: is the daemon alive, is it healthy, what is it doing.

Liveness comes from the state dir's lock (agent/state/lock.py): a lock that cannot be
taken is held by a live process, whose pid is in the lock file. A heartbeat's age cannot
say that (a daemon killed a minute ago still looks fresh). The figures come from the
spool database, opened read-only through :class:`agent.state.spool_reader.SpoolReader`,
which counts with the spool's own queries (so the bytes shown are the bytes the cap
counts), and from the dead-letter file. No SQL here.

Health, which is also the exit code (:class:`Health`): 0 healthy; 1 degraded (sending
paused, stalled, or dead letters waiting); 3 not running. Unreadable state (another
user's state dir, a path that is not a directory, a damaged database) raises
:class:`agent.errors.UnreadableStateError`, exit 2, as a usage error does.

Per server: entries pending, bytes of log not yet read (lag), and the checkpoint, for every
server the config stands for (each file a ``log`` glob matches now, with its filled id).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from pathlib import Path
from typing import Any

import orjson

from agent.app.config import AgentConfig
from agent.app.wiring import spool_options
from agent.errors import SpoolError, UnreadableStateError
from agent.model import Checkpoint
from agent.parse.fingerprint import FINGERPRINT_BYTES, matches
from agent.sources import globs
from agent.state import lock
from agent.state.deadletter import DEAD_LETTER_FILE, count_dead_letters
from agent.state.spool import SpoolStats
from agent.state.spool_reader import DaemonStatus, SpoolReader

# The daemon publishes every few seconds; a live one silent this long is stalled.
STALE_AFTER_SECONDS = 60.0
# Entries waiting, errors, and no success for this long: sending is stalled.
SENDING_STALLED_SECONDS = 300.0


class Health(IntEnum):
    """The verdict, as ``status``'s exit code (2 is the usage/unreadable error)."""

    HEALTHY = 0
    DEGRADED = 1
    NOT_RUNNING = 3


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
    pid: int | None = None  # the lock holder's pid (0: unreadable); None: not running
    holder: str = ""  # "backfill" or "deadletter replay" when that holds the lock; "": run
    pending: int = 0
    spool_bytes: int = 0
    dead_lettered: int = 0  # ever, as the spool counts them
    dead_letters_waiting: int = 0  # in the dead-letter file now (replay removes them)
    daemon: dict[str, str] = field(default_factory=dict)
    daemon_updated: float | None = None
    checked_at: float = field(default_factory=time.time)

    @property
    def daemon_running(self) -> bool:
        """True while a live process holds the state dir's lock."""
        return self.pid is not None

    def problems(self) -> list[str]:
        """Why the agent is not healthy (empty: healthy, or not running)."""
        if not self.daemon_running:
            return []
        found = []
        if self.daemon.get("paused"):
            found.append(f"sending paused: {self.daemon['paused']}")
        if self.daemon_updated is not None:
            silent = self.checked_at - self.daemon_updated
            if silent > STALE_AFTER_SECONDS:
                found.append(f"stalled: no heartbeat for {silent:.0f} s")
        if self._sending_stalled():
            found.append(f"stalled: nothing sent for {SENDING_STALLED_SECONDS:.0f} s")
        if self.dead_letters_waiting:
            found.append(
                f"dead letters: {self.dead_letters_waiting} waiting"
                " (serverops-agent deadletter list)"
            )
        return found

    def _sending_stalled(self) -> bool:
        if not self.pending or self.daemon.get("last_error", "none") == "none":
            return False
        last = _parse_time(self.daemon.get("last_success", "never"))
        since = self.daemon_updated if last is None else last
        return since is not None and self.checked_at - since > SENDING_STALLED_SECONDS

    @property
    def health(self) -> Health:
        """Not running, degraded or healthy."""
        if not self.daemon_running:
            return Health.NOT_RUNNING
        return Health.DEGRADED if self.problems() else Health.HEALTHY


def _parse_time(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def read_status(config: AgentConfig) -> StatusReport:
    """The lock holder, the spool's figures (read-only) and the log files' sizes.

    Raises :class:`UnreadableStateError` when this user cannot read the state dir.
    """
    state_dir = config.state.dir
    options = spool_options(config)
    found = globs.expand([(server.id, server.log) for server in config.servers]).matches
    report = StatusReport(
        options.path, [_server_status(m.server_id, m.path, 0, None) for m in found]
    )
    if not state_dir.exists():
        return report  # the agent never ran here: not running, nothing to show
    _check_readable(state_dir)
    report.pid = lock.holder(state_dir)
    if report.pid:
        report.holder = lock.holder_command(report.pid)
    report.dead_letters_waiting = count_dead_letters(state_dir / DEAD_LETTER_FILE)
    if not options.path.exists():
        return report
    ids = [match.server_id for match in found]
    stats, pending, daemon, checkpoints = _read_spool(config, ids)
    report.servers = [
        _server_status(m.server_id, m.path, pending.get(m.server_id, 0), checkpoints[m.server_id])
        for m in found
    ]
    report.pending, report.spool_bytes = stats.depth, stats.bytes
    report.dead_lettered = stats.dead_lettered
    report.daemon, report.daemon_updated = daemon.values, daemon.updated
    return report


def _check_readable(state_dir: Path) -> None:
    if not state_dir.is_dir():
        raise UnreadableStateError(f"state.dir: {state_dir} is not a directory")
    if not os.access(state_dir, os.R_OK | os.X_OK):
        raise UnreadableStateError(f"state.dir: {state_dir}: permission denied")


def _read_spool(
    config: AgentConfig, server_ids: list[str]
) -> tuple[SpoolStats, dict[str, int], DaemonStatus, dict[str, Checkpoint | None]]:
    options = spool_options(config)
    try:
        with SpoolReader.open(options.path, max_bytes=options.max_bytes) as spool:
            return (
                spool.stats(),
                spool.pending_by_server(),
                spool.daemon_status(),
                {server_id: spool.checkpoint(server_id) for server_id in server_ids},
            )
    except SpoolError as exc:
        raise UnreadableStateError(str(exc)) from exc


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
    """The human-readable status text: the verdict first, then the figures."""
    daemon = report.daemon
    lines = [f"health:        {_verdict(report)}"]
    lines += [f"  {problem}" for problem in report.problems()]
    lines += [
        f"daemon:        {_liveness(report)}",
        f"spool:         {report.pending} entries pending, {report.spool_bytes} bytes "
        f"({report.database})",
        f"dead letters:  {report.dead_letters_waiting} waiting, "
        f"{report.dead_lettered} dead-lettered in all",
        f"last success:  {daemon.get('last_success', 'never')}",
        f"last error:    {daemon.get('last_error', 'none')}",
        f"sending:       {_sending(report)}",
    ]
    for server in report.servers:
        lag = "log file missing" if server.lag_bytes is None else f"{server.lag_bytes} bytes"
        lines.append(
            f"server {server.server_id}: {server.pending} pending, lag {lag}, log {server.log}"
        )
    return "\n".join(lines)


def _verdict(report: StatusReport) -> str:
    return {
        Health.HEALTHY: "healthy",
        Health.DEGRADED: "degraded",
        Health.NOT_RUNNING: "not running",
    }[report.health]


def _liveness(report: StatusReport) -> str:
    if report.pid is None:
        return "not running (nothing holds the state dir's lock)"
    if report.holder:  # the state dir is busy, but not with the daemon
        return f"{report.holder} running (pid {report.pid}), not the daemon"
    return f"running (pid {report.pid or 'unknown'})"


def _sending(report: StatusReport) -> str:
    if not report.daemon_running:
        return "stopped"
    paused = report.daemon.get("paused")
    return f"paused: {paused}" if paused else "active"


def report_json(report: StatusReport) -> str:
    """The same facts as one JSON object (``status --json``)."""
    doc: dict[str, Any] = {
        "health": _verdict(report).replace(" ", "_"),
        "exit_code": int(report.health),
        "problems": report.problems(),
        "running": report.daemon_running,
        "pid": report.pid or None,
        "holder": report.holder or ("run" if report.pid is not None else None),
        "spool": {
            "path": str(report.database),
            "pending": report.pending,
            "bytes": report.spool_bytes,
        },
        "dead_letters": {
            "waiting": report.dead_letters_waiting,
            "total": report.dead_lettered,
        },
        "last_success": report.daemon.get("last_success"),
        "last_error": report.daemon.get("last_error"),
        "paused": report.daemon.get("paused") or None,
        "heartbeat": report.daemon_updated,
        "servers": [
            {
                "id": server.server_id,
                "log": str(server.log),
                "pending": server.pending,
                "lag_bytes": server.lag_bytes,
            }
            for server in report.servers
        ],
    }
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode()
