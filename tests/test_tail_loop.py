"""The tailer on an asyncio event loop (agent/sources/tail/loop.py): real files written and
rotated in tmp dirs, inotify through ``add_reader``, polling alone, a failing pass, stop
while busy, and a spool share that fills up and empties again."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from tail_writer import Log4jWriter, counter_of, mc_line

from agent.encode.encoder import EntryEncoder
from agent.encode.filters import EntryFilter
from agent.errors import SpoolError
from agent.metrics import Metrics
from agent.model import Checkpoint, Entry
from agent.parse.reader import ReaderOptions
from agent.sources.tail import ReadFrom, ServerSource, Tailer
from agent.sources.tail.loop import LoopTailer
from agent.sources.tail.sink import MemoryCheckpointStore, MemorySink
from agent.state.sinks import SpoolSink
from agent.state.spool import Spool, SpoolOptions

WAIT = 60.0  # upper bound for a condition on a loaded machine; normally well under 1 s
_COUNTER = re.compile(rb"message (\d+)")


def source(path: Path, server_id: str = "survival") -> ServerSource:
    return ServerSource(server_id, path, ReadFrom.BEGINNING, ReaderOptions(idle_flush_seconds=0.05))


async def until(predicate: Callable[[], bool], timeout: float = WAIT) -> None:
    """Poll ``predicate`` every 10 ms while the loop runs the tailer (bounded)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def counters(entries: Sequence[Entry]) -> list[int]:
    return [counter_of(e.line) for e in entries]


class ThreadNotingSink(MemorySink):
    """Notes the thread of every delivery (they must come from the loop's thread)."""

    def __init__(self, store: MemoryCheckpointStore | None = None) -> None:
        super().__init__(store)
        self.threads: set[int] = set()

    def deliver(self, entries: Sequence[Entry], checkpoint: Checkpoint, context=None) -> None:
        self.threads.add(threading.get_ident())
        super().deliver(entries, checkpoint, context)


def test_lines_and_a_roll_arrive_through_inotify_in_the_loop(tmp_path: Path) -> None:
    """With a polling interval far longer than the wait, only inotify (through add_reader)
    can deliver the lines: every line once, in order, across a log4j2 roll, in the loop's
    own thread; the loop keeps running other callbacks meanwhile."""
    writer = Log4jWriter(tmp_path / "logs", gzip_async=False)
    sink = ThreadNotingSink()
    tailer = Tailer([source(writer.latest)], sink, sink.store, poll_seconds=120.0)
    driver = LoopTailer(tailer)

    async def main() -> int:
        driver.start()
        try:
            if not tailer.waker.watching:  # e.g. fs.inotify.max_user_instances reached
                pytest.skip("inotify is unavailable here (watch.failed logged)")
            await until(lambda: tailer.sleep_seconds() > 30)  # the first (full) pass is done
            n = 0
            for _ in range(3):
                n = writer.lines(n, 50)
                await until(lambda n=n: len(sink.entries) >= n, timeout=20)
                writer.rotate()
            n = writer.lines(n, 50)
            await until(lambda: len(sink.entries) >= n, timeout=20)
            return n
        finally:
            driver.stop()

    n = asyncio.run(main())
    writer.close()
    got = counters(sink.entries)
    assert got == list(range(n)), f"{len(got)} entries; first differences: " + str(
        [(i, c) for i, c in enumerate(got) if i >= n or c != i][:10]
    )
    assert sink.threads == {threading.get_ident()}  # asyncio.run: this thread's loop
    assert not driver.alive and driver.failure is None
    assert tailer.waker.fds == []  # closed on stop


def test_polling_alone_without_inotify(tmp_path: Path) -> None:
    """use_inotify=False: only the wake pipe is watched; the timers find growth and a roll."""
    writer = Log4jWriter(tmp_path / "logs", gzip_async=False)
    sink = MemorySink()
    tailer = Tailer([source(writer.latest)], sink, sink.store, poll_seconds=0.05, use_inotify=False)
    driver = LoopTailer(tailer)

    async def main() -> int:
        driver.start()
        try:
            assert not tailer.waker.watching and len(tailer.waker.fds) == 1
            n = writer.lines(0, 100)
            await until(lambda: len(sink.entries) >= n)
            writer.rotate()
            n = writer.lines(n, 100)
            await until(lambda: len(sink.entries) >= n)
            return n
        finally:
            driver.stop()

    n = asyncio.run(main())
    writer.close()
    assert counters(sink.entries) == list(range(n))


class FailingSink(MemorySink):
    def deliver(self, entries: Sequence[Entry], checkpoint: Checkpoint, context=None) -> None:
        raise SpoolError("spool: cannot write (disk full)")


def test_a_pass_that_raises_stops_the_tailer_and_reports(tmp_path: Path) -> None:
    """The exception of a pass ends the tailer (files and descriptors closed), is kept in
    ``failure`` and handed to ``on_failure``; nothing was committed past it."""
    writer = Log4jWriter(tmp_path / "logs")
    writer.lines(0, 10)
    sink = FailingSink()
    tailer = Tailer([source(writer.latest)], sink, sink.store, poll_seconds=0.05)
    reported: list[BaseException] = []
    driver = LoopTailer(tailer, on_failure=reported.append)

    async def main() -> None:
        driver.start()
        await until(lambda: not driver.alive)

    asyncio.run(main())
    writer.close()
    assert isinstance(driver.failure, SpoolError)
    assert reported == [driver.failure]
    assert tailer.waker.fds == []
    assert sink.store.checkpoint("survival") is None


def test_stop_while_busy_keeps_the_loop_free_and_resumes_exactly(tmp_path: Path) -> None:
    """A backlog of several MiB is read one bounded pass at a time, with the loop's other
    callbacks running between passes; a stop between two passes leaves a checkpoint that
    a new tailer resumes from: every line once over both runs."""
    writer = Log4jWriter(tmp_path / "logs")
    total = 0
    with writer.latest.open("ab") as out:  # ~6 MiB: at 1 MiB a pass, several passes
        out.write(b"".join(mc_line(n) for n in range(100_000)))
        total = 100_000
    store = MemoryCheckpointStore()
    first = MemorySink(store)
    tailer = Tailer([source(writer.latest)], first, store, poll_seconds=0.05)
    driver = LoopTailer(tailer)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    async def main() -> None:
        task = asyncio.create_task(ticker())
        driver.start()
        await until(lambda: len(first.entries) > 0 and ticks >= 3, timeout=WAIT)
        driver.stop()
        assert not driver.alive
        task.cancel()

    asyncio.run(main())
    read_first = len(first.entries)
    assert 0 < read_first < total, "the backlog was read in one go, holding the loop"

    second = MemorySink(store)
    again = LoopTailer(Tailer([source(writer.latest)], second, store, poll_seconds=0.05))

    async def resume() -> None:
        again.start()
        try:
            await until(lambda: read_first + len(second.entries) >= total)
        finally:
            again.stop()

    asyncio.run(resume())
    writer.close()
    assert counters(first.entries) + counters(second.entries) == list(range(total))


def spooled_counters(spool: Spool, server_id: str) -> list[int]:
    return [
        int(match[1])
        for record in spool.take(10**6)
        if record.server_id == server_id and (match := _COUNTER.search(record.body))
    ]


def test_a_full_spool_share_pauses_reading_and_it_resumes(tmp_path: Path) -> None:
    """A server whose backlog fills its share of a small spool stops reading (the log is
    the buffer) without blocking the loop, while another server still reads; once its
    records are acked it resumes: every line spooled once, in order."""
    spool = Spool(SpoolOptions(tmp_path / "spool.sqlite3", max_bytes=64 * 1024))
    sink = SpoolSink(spool, EntryEncoder(EntryFilter.create(), Metrics()))
    busy, quiet = Log4jWriter(tmp_path / "busy" / "logs"), Log4jWriter(tmp_path / "quiet" / "logs")
    total = busy.lines(0, 3000)
    tailer = Tailer(
        [source(busy.latest, "busy"), source(quiet.latest, "quiet")],
        sink,
        spool,
        poll_seconds=0.05,
    )
    passes = 0
    run_pass = tailer.run_pass

    def counted_pass():
        nonlocal passes
        passes += 1
        return run_pass()

    tailer.run_pass = counted_pass  # type: ignore[method-assign]
    driver = LoopTailer(tailer)
    sent: list[int] = []

    async def main() -> None:
        driver.start()
        try:
            await until(lambda: not spool.has_room("busy"))
            held = spool.stats().depth
            seen, since = passes, asyncio.get_running_loop().time()
            await until(lambda: passes >= seen + 5)  # several looks for room, loop not held
            assert spool.stats().depth == held  # nothing read while the share is full
            # ... once a poll (0.05 s), not in a busy loop on the paused server's deadline
            assert asyncio.get_running_loop().time() - since >= 4 * 0.05
            quiet.lines(0, 5)
            await until(lambda: len(spooled_counters(spool, "quiet")) == 5)
            while len(sent) < total:  # the uploader's part: take and ack
                records = [r for r in spool.take(10**6) if r.server_id == "busy"]
                sent.extend(int(m[1]) for r in records if (m := _COUNTER.search(r.body)))
                spool.ack(records)
                await until(lambda: len(sent) >= total or spool.stats().depth > 5)
        finally:
            driver.stop()

    asyncio.run(main())
    busy.close()
    quiet.close()
    spool.close()
    assert sent == list(range(total))


@pytest.mark.parametrize("from_thread", [False, True])
def test_tailer_stop_from_any_thread_ends_the_driver(tmp_path: Path, from_thread: bool) -> None:
    """Tailer.stop() (the wake pipe) or LoopTailer.stop() from another thread: it stops."""
    writer = Log4jWriter(tmp_path / "logs")
    sink = MemorySink()
    tailer = Tailer([source(writer.latest)], sink, sink.store, poll_seconds=120.0)
    driver = LoopTailer(tailer)

    async def main() -> None:
        driver.start()
        await until(lambda: tailer.sleep_seconds() > 30)  # idle, waiting on its readers
        stopper = threading.Thread(target=driver.stop if from_thread else tailer.stop)
        stopper.start()
        stopper.join(WAIT)
        await until(lambda: not driver.alive)

    asyncio.run(main())
    writer.close()
    assert driver.failure is None and tailer.waker.fds == []


def test_stop_from_inside_a_pass_takes_effect_after_it(tmp_path: Path) -> None:
    """A stop asked by the pass itself (here the sink) closes nothing under it: the pass
    ends (its delivery kept), then the driver stops."""
    writer = Log4jWriter(tmp_path / "logs")
    n = writer.lines(0, 20)
    stops: list[bool] = []

    class StoppingSink(MemorySink):
        def deliver(self, entries: Sequence[Entry], checkpoint: Checkpoint, context=None) -> None:
            driver.stop()
            stops.append(driver.alive)  # still running: the pass is not over
            super().deliver(entries, checkpoint, context)

    sink = StoppingSink()
    tailer = Tailer([source(writer.latest)], sink, sink.store, poll_seconds=0.05)
    driver = LoopTailer(tailer)

    async def main() -> None:
        driver.start()
        await until(lambda: not driver.alive)

    asyncio.run(main())
    writer.close()
    assert stops and all(stops)
    assert driver.failure is None and tailer.waker.fds == []
    assert 0 < len(sink.entries) <= n
    assert sink.store.checkpoint("survival") == sink.checkpoints[-1]
