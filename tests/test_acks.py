"""Acks of one loop tick committed together (agent/ship/acks.py), on a real SQLite spool."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from agent.errors import SpoolError
from agent.model import Checkpoint
from agent.ship.acks import AckGroup
from agent.state.spool import Spool, SpooledRecord, SpoolOptions
from agent.testing import make_records


class CountingSpool(Spool):
    """The real spool, counting ack transactions."""

    commits: list[int]

    def ack(self, records: Sequence[SpooledRecord]) -> None:
        self.commits.append(len(records))
        super().ack(records)


def spool_with(tmp_path: Path, count: int) -> tuple[CountingSpool, list[SpooledRecord]]:
    spool = CountingSpool(SpoolOptions(tmp_path / "spool.sqlite3"))
    spool.commits = []
    assert spool.append(list(make_records(count)), Checkpoint("main-1", "f" * 16, count))
    return spool, spool.take_fair(count, {})


def test_acks_of_one_tick_share_one_transaction_and_return_after_it(tmp_path: Path) -> None:
    spool, records = spool_with(tmp_path, 5)
    group = AckGroup(spool)

    async def main() -> list[int]:
        depths: list[int] = []

        async def one(record: SpooledRecord) -> None:
            await group.ack(record)
            depths.append(spool.stats().depth)  # already gone when ack returns

        await asyncio.gather(*(one(r) for r in records[:3]))
        await group.ack(records[3])  # a later tick: its own transaction
        return depths

    depths = asyncio.run(main())
    assert spool.commits == [3, 1]
    assert depths == [2, 2, 2]
    assert spool.stats().depth == 1


def test_a_failed_commit_is_raised_in_every_sender_of_the_batch(tmp_path: Path) -> None:
    spool, records = spool_with(tmp_path, 2)
    group = AckGroup(spool)
    spool.close()  # the next transaction fails

    async def main() -> list[BaseException | None]:
        results = await asyncio.gather(*(group.ack(r) for r in records), return_exceptions=True)
        return list(results)

    results = asyncio.run(main())
    assert [type(r) for r in results] == [SpoolError, SpoolError]


def test_a_cancelled_sender_does_not_stop_the_commit(tmp_path: Path) -> None:
    spool, records = spool_with(tmp_path, 2)
    group = AckGroup(spool)

    async def main() -> None:
        first = asyncio.create_task(group.ack(records[0]))
        second = asyncio.create_task(group.ack(records[1]))
        await asyncio.sleep(0)  # both added their record; the commit is scheduled
        first.cancel()
        await second
        with pytest.raises(asyncio.CancelledError):
            await first

    asyncio.run(main())
    assert spool.commits == [2]
    assert spool.stats().depth == 0
