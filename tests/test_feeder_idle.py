"""The feeder on an idle spool: woken by appends, not polling the spool every linger."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from agent.model import Checkpoint
from agent.ship.feeder import Feeder
from agent.state.spool import Record, Spool, SpoolOptions


class CountingSpool(Spool):
    """A real spool that counts the feeder's reads."""

    reads = 0

    def take_fair(self, limit, cursors):  # type: ignore[no-untyped-def]
        self.reads += 1
        return super().take_fair(limit, cursors)


def test_an_idle_feeder_does_not_poll_and_an_append_wakes_it(tmp_path: Path) -> None:
    spool = CountingSpool(SpoolOptions(tmp_path / "state" / "spool.sqlite3"))

    async def scenario() -> tuple[int, str]:
        feeder = Feeder(spool, batch_size=8, max_pending=8, linger_seconds=0.05)
        task = asyncio.create_task(feeder.run(until_empty=False))
        await asyncio.sleep(1.0)  # 20 lingers: a polling feeder reads ~20 times
        idle_reads = spool.reads
        # An append from another thread (as the tailer does) wakes it at once.
        record = Record("e1", "survival", b"{}")
        writer = threading.Thread(
            target=spool.append, args=([record], Checkpoint("survival", "fp", 3))
        )
        writer.start()
        got = await asyncio.wait_for(feeder.queue.get(), 10.0)
        writer.join()
        feeder.stop()
        await task
        assert got is not None
        return idle_reads, got.event_id

    idle_reads, event_id = asyncio.run(scenario())
    assert idle_reads <= 2
    assert event_id == "e1"
    spool.close()
