"""The SQLite spool: atomic append + checkpoint, ack, dead-letter, cap, versions, modes."""

from __future__ import annotations

import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from agent.errors import SpoolError
from agent.metrics import Metrics
from agent.model import Checkpoint
from agent.state.spool import SCHEMA_VERSION, Record, Spool, SpoolOptions, record_size
from agent.testing import make_records


def open_spool(tmp_path: Path, **kw: object) -> Spool:
    return Spool(SpoolOptions(tmp_path / "state" / "spool.sqlite3", **kw))  # type: ignore[arg-type]


class TestAppend:
    def test_entries_and_checkpoint_survive_reopen(self, tmp_path: Path) -> None:
        """Appended records and their checkpoint are there after closing and reopening."""
        spool = open_spool(tmp_path)
        records = list(make_records(10))
        spool.append(records, Checkpoint("main-1", "fp", 1234))
        spool.close()
        again = open_spool(tmp_path)
        assert [r.event_id for r in again.take(100)] == [r.event_id for r in records]
        assert again.checkpoint("main-1") == Checkpoint("main-1", "fp", 1234)
        assert again.stats().depth == 10
        assert again.stats().bytes == sum(
            record_size(*(r.event_id, r.server_id, r.body)) for r in records
        )

    def test_failed_append_stores_neither_entries_nor_checkpoint(self, tmp_path: Path) -> None:
        """A transaction that fails half-way leaves no entry and no checkpoint behind."""
        spool = open_spool(tmp_path)
        spool.append(make_records(2), Checkpoint("main-1", "fp", 10))
        bad = [*make_records(3, start=2), Record("x", "main-1", [b"unbindable"])]  # type: ignore[arg-type]
        with pytest.raises(SpoolError):
            spool.append(bad, Checkpoint("main-1", "fp", 99))
        assert spool.stats().depth == 2
        assert len(spool.take(100)) == 2
        assert spool.checkpoint("main-1") == Checkpoint("main-1", "fp", 10)

    def test_checkpoint_lookup_by_fingerprint_and_latest(self, tmp_path: Path) -> None:
        """Checkpoints are kept per file; the latest one per server is the current file."""
        spool = open_spool(tmp_path)
        spool.append((), Checkpoint("main-1", "old", 500))
        spool.append((), Checkpoint("main-1", "new", 20))
        spool.append((), Checkpoint("lobby", "old", 7))
        spool.save_checkpoint(Checkpoint("main-1", "new", 40))
        assert spool.checkpoint("main-1") == Checkpoint("main-1", "new", 40)
        assert spool.checkpoint_for("main-1", "old") == Checkpoint("main-1", "old", 500)
        assert spool.checkpoint_for("lobby", "old") == Checkpoint("lobby", "old", 7)
        assert spool.checkpoint_for("main-1", "missing") is None
        assert spool.checkpoint("nobody") is None


class TestTakeAndRemove:
    def test_take_after_id_and_ack(self, tmp_path: Path) -> None:
        """take() pages by id without removing; ack() removes and updates the counters."""
        spool = open_spool(tmp_path)
        spool.append(make_records(5), None)
        first = spool.take(3)
        rest = spool.take(10, after_id=first[-1].id)
        assert len(first) == 3 and len(rest) == 2
        spool.ack(first)
        assert spool.stats().depth == 2
        assert [r.id for r in spool.take(10)] == [r.id for r in rest]

    def test_ids_keep_growing_after_the_spool_was_emptied(self, tmp_path: Path) -> None:
        """Ids never go back, so 'after the last id taken' cannot skip new records."""
        spool = open_spool(tmp_path)
        spool.append(make_records(3), None)
        taken = spool.take(10)
        spool.ack(taken)
        spool.close()
        spool = open_spool(tmp_path)
        spool.append(make_records(1, start=3), None)
        assert len(spool.take(10, after_id=taken[-1].id)) == 1

    def test_dead_letter_removes_and_counts_persistently(self, tmp_path: Path) -> None:
        """Dead-lettered records leave the spool and the count survives a restart."""
        spool = open_spool(tmp_path)
        spool.append(make_records(3), None)
        spool.dead_letter(spool.take(2))
        spool.close()
        stats = open_spool(tmp_path).stats()
        assert (stats.depth, stats.dead_lettered) == (1, 2)


class TestCap:
    def test_full_spool_reports_no_room_warns_once_and_keeps_everything(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Past the cap append still stores (nothing dropped), says 'no room', warns once."""
        metrics = Metrics()
        size = record_size(*next(iter((r.event_id, r.server_id, r.body) for r in make_records(1))))
        spool = Spool(SpoolOptions(tmp_path / "s.sqlite3", max_bytes=size * 5), metrics)
        assert spool.append(make_records(3), None) is True
        assert spool.append(make_records(3, start=3), None) is False
        assert spool.append(make_records(1, start=6), None) is False
        assert spool.stats().depth == 7
        assert not spool.has_room()
        assert metrics.spool_full._value.get() == 1
        assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
        assert "spool.full" in caplog.records[0].message
        spool.ack(spool.take(4))
        assert spool.has_room()
        assert metrics.spool_full._value.get() == 0

    def test_wait_for_room_wakes_when_the_uploader_acks(self, tmp_path: Path) -> None:
        """A tailer blocked on a full spool resumes as soon as entries are acked."""
        spool = Spool(SpoolOptions(tmp_path / "s.sqlite3", max_bytes=1))
        spool.append(make_records(2), None)
        assert spool.wait_for_room(timeout=0.01) is False
        result: list[bool] = []
        waiter = threading.Thread(target=lambda: result.append(spool.wait_for_room(timeout=30)))
        waiter.start()
        spool.ack(spool.take(10))
        waiter.join(30)
        assert result == [True]


class TestFiles:
    def test_database_is_private(self, tmp_path: Path) -> None:
        """The database and its WAL are mode 0600 in a 0700 directory."""
        spool = open_spool(tmp_path)
        spool.append(make_records(1), None)
        directory = tmp_path / "state"
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        for path in directory.iterdir():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name

    def test_opens_a_version_1_database_written_by_hand(self, tmp_path: Path) -> None:
        """A database in the version-1 layout (as shipped) opens with its data intact."""
        path = tmp_path / "v1.sqlite3"
        db = sqlite3.connect(path)
        db.executescript(
            """
            CREATE TABLE entries (id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL,
                                  server_id TEXT NOT NULL, body BLOB NOT NULL);
            CREATE TABLE checkpoints (server_id TEXT NOT NULL, fingerprint TEXT NOT NULL,
                                      offset INTEGER NOT NULL, updated INTEGER NOT NULL,
                                      PRIMARY KEY (server_id, fingerprint));
            CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
            INSERT INTO entries (event_id, server_id, body) VALUES ('e1', 'main-1', X'7B7D');
            INSERT INTO checkpoints VALUES ('main-1', 'fp', 77, 1);
            INSERT INTO counters VALUES ('dead_lettered', 4);
            PRAGMA user_version = 1;
            """
        )
        db.close()
        spool = Spool(SpoolOptions(path))
        assert [(r.event_id, r.body) for r in spool.take(10)] == [("e1", b"{}")]
        assert spool.checkpoint("main-1") == Checkpoint("main-1", "fp", 77)
        assert spool.stats().dead_lettered == 4

    def test_refuses_a_newer_schema(self, tmp_path: Path) -> None:
        """A database from a newer agent is not touched; the error says what to do."""
        path = tmp_path / "new.sqlite3"
        db = sqlite3.connect(path)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        db.close()
        with pytest.raises(SpoolError, match="newer than this agent"):
            Spool(SpoolOptions(path))


# The layout of a version-1 spool exactly as that agent created it (schema.py at
# SCHEMA_VERSION = 1): the migration to 2 must keep everything and add the context table.
V1_LAYOUT = """
CREATE TABLE entries (id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL,
                      server_id TEXT NOT NULL, body BLOB NOT NULL);
CREATE TABLE checkpoints (server_id TEXT NOT NULL, fingerprint TEXT NOT NULL,
                          offset INTEGER NOT NULL, updated INTEGER NOT NULL,
                          PRIMARY KEY (server_id, fingerprint));
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE agent_status (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated REAL NOT NULL);
PRAGMA user_version = 1;
"""

CONTEXT = {"uuids": {"Steve": "8667ba71-b85a-4004-af54-457a9734eed7"}, "online": ["Steve"]}


class TestServerContext:
    def test_context_is_stored_with_the_checkpoint_and_survives_reopen(
        self, tmp_path: Path
    ) -> None:
        """A context appended with a checkpoint is the server's until the next one."""
        spool = open_spool(tmp_path)
        assert spool.server_context("main-1") is None
        spool.append(make_records(1), Checkpoint("main-1", "fp", 10), context=CONTEXT)
        spool.append(make_records(1, start=1), Checkpoint("main-1", "fp", 20))  # unchanged
        spool.append((), Checkpoint("lobby", "fp", 5), context={"uuids": {}})
        spool.close()
        again = open_spool(tmp_path)
        assert again.server_context("main-1") == CONTEXT
        assert again.server_context("lobby") == {"uuids": {}}
        again.append((), Checkpoint("main-1", "fp", 30), context={"uuids": {"Alex": "u"}})
        assert again.server_context("main-1") == {"uuids": {"Alex": "u"}}

    def test_failed_append_keeps_the_old_context(self, tmp_path: Path) -> None:
        """Entries, checkpoint and context commit together or not at all."""
        spool = open_spool(tmp_path)
        spool.append(make_records(1), Checkpoint("main-1", "fp", 10), context=CONTEXT)
        bad = [Record("x", "main-1", [b"unbindable"])]  # type: ignore[list-item]
        with pytest.raises(SpoolError):
            spool.append(bad, Checkpoint("main-1", "fp", 99), context={"uuids": {}})
        assert spool.server_context("main-1") == CONTEXT
        assert spool.checkpoint("main-1") == Checkpoint("main-1", "fp", 10)

    def test_context_that_is_not_json_fails_the_whole_append(self, tmp_path: Path) -> None:
        """A context JSON cannot hold is a SpoolError; its entries are not stored either."""
        spool = open_spool(tmp_path)
        with pytest.raises(SpoolError):
            spool.append(make_records(2), Checkpoint("s", "fp", 9), context={"x": object()})
        assert (spool.stats().depth, spool.checkpoint("s"), spool.server_context("s")) == (
            0,
            None,
            None,
        )

    def test_context_needs_the_latest_checkpoint(self, tmp_path: Path) -> None:
        """A context belongs to the resume point: not stored without one, or behind it."""
        spool = open_spool(tmp_path)
        with pytest.raises(ValueError, match="latest checkpoint"):
            spool.append((), None, context=CONTEXT)
        with pytest.raises(ValueError, match="latest checkpoint"):
            spool.append((), Checkpoint("s", "old", 1), as_latest=False, context=CONTEXT)
        assert spool.server_context("s") is None

    def test_damaged_context_is_logged_and_ignored(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A stored context that is not a JSON object gives None (rebuilt from the logs)."""
        spool = open_spool(tmp_path)
        spool.close()
        db = sqlite3.connect(tmp_path / "state" / "spool.sqlite3")
        db.execute("INSERT INTO server_contexts VALUES ('s', '{not json'), ('t', '[1]'), ('u', 7)")
        db.commit()
        db.close()
        spool = open_spool(tmp_path)
        assert spool.server_context("s") is None
        assert spool.server_context("t") is None
        assert spool.server_context("u") is None
        assert "spool.context_unreadable" in caplog.text

    def test_migrates_a_version_1_spool(self, tmp_path: Path) -> None:
        """A spool created by the version-1 schema opens, keeps its entries, checkpoint and
        counters, becomes version 2, and stores contexts from then on."""
        path = tmp_path / "v1.sqlite3"
        db = sqlite3.connect(path)
        db.executescript(
            V1_LAYOUT
            + "INSERT INTO entries (event_id, server_id, body) VALUES ('e1', 'main-1', X'7B7D');"
            "INSERT INTO checkpoints VALUES ('main-1', 'fp', 77, 1);"
            "INSERT INTO counters VALUES ('dead_lettered', 4);"
        )
        db.close()
        spool = Spool(SpoolOptions(path))
        assert [(r.event_id, r.body) for r in spool.take(10)] == [("e1", b"{}")]
        assert spool.checkpoint("main-1") == Checkpoint("main-1", "fp", 77)
        assert spool.stats().dead_lettered == 4
        assert spool.server_context("main-1") is None
        spool.append((), Checkpoint("main-1", "fp", 99), context=CONTEXT)
        spool.close()
        db = sqlite3.connect(path)
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
        db.close()
        again = Spool(SpoolOptions(path))
        assert again.server_context("main-1") == CONTEXT
        assert again.checkpoint("main-1") == Checkpoint("main-1", "fp", 99)
