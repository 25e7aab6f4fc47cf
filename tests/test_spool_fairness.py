"""Fairness between servers in the spool: each server's share of the cap, and its turn when
the uploader takes records (agent/state/spool.py, agent/ship/feeder.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agent.metrics import Metrics
from agent.model import Checkpoint
from agent.ship.feeder import Feeder
from agent.state.spool import Spool, SpoolOptions
from agent.testing import make_records

CAP = 1024 * 1024


def open_spool(tmp_path: Path, metrics: Metrics | None = None) -> Spool:
    return Spool(SpoolOptions(tmp_path / "state" / "spool.sqlite3", max_bytes=CAP), metrics)


def fill(spool: Spool, server_id: str, until_full: bool = True, count: int = 500) -> int:
    """Append batches of ``server_id`` until it has no room (or ``count`` records once)."""
    appended = 0
    while True:
        spool.append(make_records(count, server_id=server_id, start=appended), None)
        appended += count
        if not until_full or not spool.has_room(server_id):
            return appended


class TestShare:
    def test_spammer_fills_the_cap_others_keep_their_share(self, tmp_path: Path) -> None:
        """A server that filled the cap has no room; another server still has until it
        holds its share (cap / servers spooling); the spammer gets room back as soon as
        its records are sent below its share, not only below the whole cap."""
        spool = open_spool(tmp_path)
        fill(spool, "spam")
        assert not spool.has_room() and not spool.has_room("spam")
        assert spool.has_room("quiet")
        fill(spool, "quiet")
        assert not spool.has_room("quiet")
        quiet_bytes = spool.stats().bytes - sum(
            r.size for r in spool.take(10**6) if r.server_id == "spam"
        )
        assert CAP // 2 <= quiet_bytes < CAP // 2 + 500 * 400
        assert spool.stats().bytes < 2 * CAP  # the documented bound
        spam = [r for r in spool.take(10**6) if r.server_id == "spam"]
        spool.ack(spam[: len(spam) * 3 // 4])  # below half the cap, the total still full
        assert spool.has_room("spam")

    def test_room_is_shared_only_when_full(self, tmp_path: Path) -> None:
        """Below the cap every server reads, whatever its share."""
        spool = open_spool(tmp_path)
        fill(spool, "a", until_full=False, count=100)
        assert spool.has_room("a") and spool.has_room("b") and spool.has_room()

    def test_counts_survive_reopen(self, tmp_path: Path) -> None:
        """Per-server bytes are rebuilt from the database when the spool is opened again."""
        spool = open_spool(tmp_path)
        fill(spool, "spam")
        spool.close()
        again = open_spool(tmp_path)
        assert not again.has_room("spam") and again.has_room("quiet")


class TestTakeFair:
    def test_servers_alternate_and_a_backlog_does_not_go_first(self, tmp_path: Path) -> None:
        """With 5,000 records of one server spooled before one of another, the other's
        record is in the first batch, and batches alternate between servers."""
        spool = open_spool(tmp_path)
        spool.append(make_records(5000, server_id="spam"), Checkpoint("spam", "f", 1))
        spool.append(make_records(1, server_id="quiet"), Checkpoint("quiet", "f", 1))
        cursors: dict[str, int] = {}
        batch = spool.take_fair(10, cursors)
        assert {r.server_id for r in batch[:2]} == {"spam", "quiet"}
        assert len(batch) == 6  # quiet had one record; spam its share, 5
        assert spool.take_fair(10, cursors) and all(
            r.server_id == "spam" for r in spool.take_fair(10, cursors)
        )

    def test_every_record_taken_once_in_order_per_server(self, tmp_path: Path) -> None:
        """Taking until empty yields each record once, each server's in spool order;
        cursors of servers with nothing spooled are dropped."""
        spool = open_spool(tmp_path)
        for n in range(0, 60, 20):
            for server in ("a", "b", "c"):
                spool.append(make_records(20 - n // 10, server_id=server, start=n), None)
        expected = spool.take(10**6)
        cursors: dict[str, int] = {}
        taken = []
        while batch := spool.take_fair(7, cursors):
            taken += batch
        assert sorted(r.id for r in taken) == [r.id for r in expected]
        for server in ("a", "b", "c"):
            ids = [r.id for r in taken if r.server_id == server]
            assert ids == sorted(ids)
        spool.ack(taken)
        spool.take_fair(7, cursors)
        assert cursors == {}

    def test_spooled_per_server_metric(self, tmp_path: Path) -> None:
        """serverops_agent_server_entries_spooled counts per server."""
        metrics = Metrics()
        spool = open_spool(tmp_path, metrics)
        spool.append(make_records(3, server_id="a"), None)
        spool.append(make_records(2, server_id="b"), None)
        assert metrics.by_label(metrics.server_entries_spooled, "server_id") == {"a": 3, "b": 2}


def test_feeder_queues_the_quiet_server_before_the_spammer_backlog(tmp_path: Path) -> None:
    """The uploader's feeder puts the quiet server's record in its first batch even with
    a long backlog of another server spooled before it."""
    spool = open_spool(tmp_path)
    spool.append(make_records(2000, server_id="spam"), None)
    spool.append(make_records(1, server_id="quiet"), None)

    async def first_batch() -> list[str]:
        feeder = Feeder(spool, batch_size=64, max_pending=64, linger_seconds=0.01)
        task = asyncio.create_task(feeder.run(until_empty=False))
        servers = [(await feeder.queue.get()).server_id for _ in range(64)]  # type: ignore[union-attr]
        feeder.stop()
        await task
        return servers

    servers = asyncio.run(first_batch())
    assert "quiet" in servers[:2]
