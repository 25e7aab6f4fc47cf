"""``status`` figures read through SpoolReader agree with the Spool that wrote them."""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.app.config import AgentConfig
from agent.app.status import Health, StatusReport, read_status
from agent.errors import SpoolError
from agent.model import Checkpoint
from agent.parse.fingerprint import fingerprint
from agent.state.spool import SCHEMA_VERSION, SPOOL_FILE, Record, Spool, SpoolOptions, record_size
from agent.state.spool_reader import SpoolReader
from agent.testing import make_records

MAX_BYTES = 8 * 1024 * 1024


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The config is built from the test's values only, not the caller's SERVEROPS_*."""
    for name in [n for n in os.environ if n.startswith("SERVEROPS_")]:
        monkeypatch.delenv(name)


def make_config(tmp_path: Path) -> AgentConfig:
    """Two servers with logs on disk and a state dir under tmp_path."""
    servers = []
    for server_id in ("survival", "creative"):
        log = tmp_path / server_id / "latest.log"
        log.parent.mkdir()
        log.write_bytes(b"[10:00:00] [Server thread/INFO]: Starting\n" * 20)
        servers.append({"id": server_id, "log": log})
    return AgentConfig.model_validate(
        {
            "state": {"dir": tmp_path / "state"},
            "spool": {"max_bytes": MAX_BYTES},
            "servers": servers,
        }
    )


def records(server_id: str, count: int, *, start: int = 0, pad: int = 0) -> list[Record]:
    """``count`` records of one server; ``pad`` extra body bytes make sizes differ."""
    return [
        Record(r.event_id, r.server_id, r.body + b" " * pad)
        for r in make_records(count, server_id=server_id, start=start)
    ]


@pytest.fixture
def config(tmp_path: Path) -> AgentConfig:
    return make_config(tmp_path)


@pytest.fixture
def spool(config: AgentConfig) -> Iterator[Spool]:
    """A real spool in the config's state dir, open for the whole test (as the daemon's)."""
    opened = Spool(SpoolOptions(config.state.dir / SPOOL_FILE, max_bytes=MAX_BYTES))
    yield opened
    opened.close()


class TestStatusFigures:
    def test_bytes_and_depth_are_the_spools_own(self, config: AgentConfig, spool: Spool) -> None:
        """status shows exactly Spool.stats()'s depth and bytes: body, ids and row overhead."""
        written = records("survival", 7, pad=300) + records("creative", 3, pad=5)
        spool.append(written, None)
        report = read_status(config)
        expected = sum(record_size(r.event_id, r.server_id, r.body) for r in written)
        assert (report.pending, report.spool_bytes) == (10, expected)
        assert (report.pending, report.spool_bytes) == (spool.stats().depth, spool.stats().bytes)
        assert report.spool_bytes > sum(len(r.body) for r in written)  # not the body alone

    def test_figures_follow_acks_and_dead_letters(self, config: AgentConfig, spool: Spool) -> None:
        """After acks and dead letters, pending per server and dead-lettered match the spool."""
        spool.append(records("survival", 6) + records("creative", 4), None)
        taken = spool.take(10)
        spool.ack([r for r in taken if r.server_id == "survival"][:2])
        spool.dead_letter([r for r in taken if r.server_id == "creative"][:3])
        report = read_status(config)
        pending = {server.server_id: server.pending for server in report.servers}
        assert pending == {"survival": 4, "creative": 1}
        assert report.dead_lettered == 3 == spool.stats().dead_lettered
        assert (report.pending, report.spool_bytes) == (spool.stats().depth, spool.stats().bytes)

    def test_lag_uses_the_latest_checkpoint(self, config: AgentConfig, spool: Spool) -> None:
        """A checkpoint in the current log file gives the bytes left to read as lag."""
        log = config.servers[0].log
        head = log.read_bytes()[:1024]
        spool.append((), Checkpoint("survival", "0" * 16, 5))  # an older, rotated file
        spool.append((), Checkpoint("survival", fingerprint(head), 100))
        report = read_status(config)
        survival, creative = report.servers
        assert survival.lag_bytes == log.stat().st_size - 100
        assert creative.lag_bytes == config.servers[1].log.stat().st_size  # nothing read yet

    def test_daemon_rows_and_heartbeat(self, config: AgentConfig, spool: Spool) -> None:
        """What the daemon published is shown, with its newest time as the heartbeat."""
        now = time.time()
        spool.publish_status({"pid": "42", "paused": "quota"}, now - 10)
        spool.publish_status({"last_success": "2026-01-01T00:00:00Z"}, now)
        report = read_status(config)
        assert report.daemon == {
            "pid": "42",
            "paused": "quota",
            "last_success": "2026-01-01T00:00:00Z",
        }
        assert report.daemon_updated == now
        assert not report.daemon_running  # liveness is the lock, which nobody holds here


class TestSpoolReader:
    def test_sees_a_live_writers_commits(self, tmp_path: Path) -> None:
        """A reader opened beside a running spool sees each later commit, stats equal."""
        path = tmp_path / "state" / SPOOL_FILE
        spool = Spool(SpoolOptions(path))
        spool.append(records("survival", 2), Checkpoint("survival", "fp", 10))
        with SpoolReader.open(path) as reader:
            assert reader.stats() == spool.stats()
            spool.append(records("survival", 3, start=2, pad=70), Checkpoint("survival", "fp", 20))
            spool.dead_letter(spool.take(1))
            assert reader.stats() == spool.stats()
            assert reader.checkpoint("survival") == spool.checkpoint("survival")
            assert reader.checkpoint("nobody") is None
            assert reader.pending_by_server() == {"survival": 4}
        spool.close()

    def test_stats_match_a_reopened_spool(self, tmp_path: Path) -> None:
        """The reader and a spool recounting from disk agree (one definition of bytes)."""
        path = tmp_path / SPOOL_FILE
        spool = Spool(SpoolOptions(path))
        spool.append(records("a", 5, pad=1000) + records("b", 1), None)
        spool.close()
        again = Spool(SpoolOptions(path))
        with SpoolReader.open(path) as reader:
            assert reader.stats() == again.stats()
        again.close()

    def test_missing_database_says_the_agent_has_not_run(self, tmp_path: Path) -> None:
        """No database: a SpoolError saying so, and no file is created."""
        path = tmp_path / SPOOL_FILE
        with pytest.raises(SpoolError, match="no spool database yet"):
            SpoolReader.open(path)
        assert not path.exists()

    def test_refuses_a_newer_schema(self, tmp_path: Path) -> None:
        """A database from a newer agent is not read (its figures may mean something else)."""
        path = tmp_path / SPOOL_FILE
        db = sqlite3.connect(path)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        db.close()
        with pytest.raises(SpoolError, match="newer than this agent"):
            SpoolReader.open(path)

    def test_an_unreadable_database_is_a_spool_error(self, tmp_path: Path) -> None:
        """A file that is not a spool database gives a SpoolError naming it, no traceback."""
        path = tmp_path / SPOOL_FILE
        path.write_bytes(b"not a database at all" * 100)
        with pytest.raises(SpoolError, match=re.escape(str(path))):
            SpoolReader.open(path).stats()


class TestHealth:
    """The verdict from what the daemon published, under a live lock (pid set)."""

    def report(self, tmp_path: Path, **values: str) -> StatusReport:
        now = time.time()
        return StatusReport(
            tmp_path / SPOOL_FILE,
            [],
            pid=4242,
            pending=int(values.pop("pending", "0")),
            daemon={"last_error": "none", **values},
            daemon_updated=now - 2,
            checked_at=now,
        )

    def test_healthy_and_not_running(self, tmp_path: Path) -> None:
        report = self.report(tmp_path)
        assert report.health == Health.HEALTHY and report.problems() == []
        report.pid = None
        assert report.health == Health.NOT_RUNNING

    def test_sending_stalled_after_errors_with_entries_waiting(self, tmp_path: Path) -> None:
        long_ago = datetime.fromtimestamp(time.time() - 900, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        stalled = self.report(tmp_path, pending="5", last_error="timeout", last_success=long_ago)
        assert stalled.health == Health.DEGRADED
        assert stalled.problems() == ["stalled: nothing sent for 300 s"]
        recent = datetime.fromtimestamp(time.time() - 10, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert (
            self.report(tmp_path, pending="5", last_error="timeout", last_success=recent).problems()
            == []
        )

    def test_dead_letters_waiting_degrade(self, tmp_path: Path) -> None:
        report = self.report(tmp_path)
        report.dead_letters_waiting = 2
        assert report.health == Health.DEGRADED
        assert report.problems() == ["dead letters: 2 waiting (serverops-agent deadletter list)"]
