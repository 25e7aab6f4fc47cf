"""SpoolSink: the one "encode, spool with the checkpoint, wait for room" (daemon and backfill)."""

from __future__ import annotations

import threading
from pathlib import Path

from agent.encode.encoder import EntryEncoder
from agent.encode.filters import EntryFilter
from agent.metrics import Metrics
from agent.model import Checkpoint, Entry
from agent.state.sinks import SpoolSink
from agent.state.spool import Spool, SpoolOptions


def entries(server_id: str, count: int, tag: str = "chat") -> list[Entry]:
    """``count`` one-line entries of one server, 10 bytes apart."""
    return [
        Entry(server_id, "f" * 16, n * 10, n * 10 + 10, f"line {n}", f"[..] line {n}", tags=[tag])
        for n in range(count)
    ]


def sink_for(spool: Spool, *, as_latest: bool = True, exclude: tuple[str, ...] = ()) -> SpoolSink:
    encoder = EntryEncoder(EntryFilter.create(exclude_tags=list(exclude)), Metrics())
    return SpoolSink(spool, encoder, as_latest=as_latest)


class TestDeliver:
    def test_entries_and_checkpoint_go_in_together(self, tmp_path: Path) -> None:
        """Encoded entries and the checkpoint they complete are both in the spool."""
        spool = Spool(SpoolOptions(tmp_path / "spool.sqlite3"))
        sink_for(spool).deliver(entries("s", 3), Checkpoint("s", "f" * 16, 30))
        assert [r.server_id for r in spool.take(10)] == ["s"] * 3
        assert spool.checkpoint("s") == Checkpoint("s", "f" * 16, 30)

    def test_filtered_entries_still_move_the_checkpoint(self, tmp_path: Path) -> None:
        """Nothing passes the filter: no record, but the checkpoint advances (not re-read)."""
        spool = Spool(SpoolOptions(tmp_path / "spool.sqlite3"))
        sink_for(spool, exclude=("chat",)).deliver(entries("s", 3), Checkpoint("s", "fp", 30))
        assert spool.stats().depth == 0
        assert spool.checkpoint("s") == Checkpoint("s", "fp", 30)

    def test_not_as_latest_leaves_the_resume_point(self, tmp_path: Path) -> None:
        """as_latest=False (backfill behind the daemon) saves the checkpoint behind the
        server's latest one, which stays the daemon's resume point."""
        spool = Spool(SpoolOptions(tmp_path / "spool.sqlite3"))
        sink_for(spool).deliver(entries("s", 1), Checkpoint("s", "current", 10))
        sink_for(spool, as_latest=False).deliver(entries("s", 2), Checkpoint("s", "old", 20))
        assert spool.checkpoint("s") == Checkpoint("s", "current", 10)
        assert spool.checkpoint_for("s", "old") == Checkpoint("s", "old", 20)


class TestWaitWhileFull:
    def test_returns_at_once_when_there_is_room(self, tmp_path: Path) -> None:
        """A spool under its cap does not wait, whatever the uploader does."""
        sink = sink_for(Spool(SpoolOptions(tmp_path / "spool.sqlite3")))
        assert sink.wait_while_full(still_sending=lambda: False) is True

    def test_gives_up_when_the_uploader_stopped(self, tmp_path: Path) -> None:
        """Full spool and no uploader left to drain it: False instead of waiting forever."""
        spool = Spool(SpoolOptions(tmp_path / "spool.sqlite3", max_bytes=1))
        sink = sink_for(spool)
        sink.deliver(entries("s", 2), Checkpoint("s", "fp", 20))
        asked: list[bool] = []
        assert sink.wait_while_full(lambda: asked.append(True) or False, poll_seconds=0.01) is False
        assert asked == [True]

    def test_wakes_when_the_uploader_acks(self, tmp_path: Path) -> None:
        """A reader blocked on a full spool resumes as soon as entries are acked."""
        spool = Spool(SpoolOptions(tmp_path / "spool.sqlite3", max_bytes=1))
        sink = sink_for(spool)
        sink.deliver(entries("s", 2), Checkpoint("s", "fp", 20))
        result: list[bool] = []
        waiter = threading.Thread(
            target=lambda: result.append(sink.wait_while_full(lambda: True, poll_seconds=30))
        )
        waiter.start()
        spool.ack(spool.take(10))
        waiter.join(30)
        assert result == [True]
