"""The tailer loop with real threads: a writer thread, inotify wake-ups, polling fallback."""

from __future__ import annotations

import io
import json
import logging
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from tail_writer import Log4jWriter, counter_of

from agent import events
from agent.encode.encoder import EntryEncoder
from agent.encode.filters import EntryFilter
from agent.metrics import Metrics
from agent.model import Checkpoint, Entry
from agent.parse.reader import ReaderOptions
from agent.sources.tail import ReadFrom, ServerSource, Tailer, follow
from agent.sources.tail.sink import MemoryCheckpointStore, MemorySink
from agent.state.sinks import PrintSink

WAIT = 60.0  # upper bound for a condition on a loaded machine; normally well under 1 s


def source(path: Path, server_id: str = "survival") -> ServerSource:
    return ServerSource(server_id, path, ReadFrom.BEGINNING, ReaderOptions(idle_flush_seconds=0.05))


class Running:
    """A Tailer running in a thread for the duration of a ``with`` block."""

    def __init__(self, tailer: Tailer) -> None:
        self.tailer = tailer
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.tailer.run()
        except BaseException as exc:  # surfaced by the test
            self.error = exc

    def __enter__(self) -> Running:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.tailer.stop()
        self._thread.join(timeout=10)
        assert not self._thread.is_alive(), "tailer did not stop"
        assert self.error is None, self.error


def counters(entries: Sequence[Entry]) -> list[int]:
    return [counter_of(e.line) for e in entries]


def have(count: int):
    return lambda entries: len(entries) >= count


@pytest.fixture
def logs(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "survival" / "logs"


def test_rotation_during_high_rate_write(logs: Path) -> None:
    """≥10,000 lines/s for seconds, six log4j2 rolls: every line once, in order."""
    writer = Log4jWriter(logs)
    sink = MemorySink()
    total, per_roll, rate = 60_000, 10_000, 20_000
    done = threading.Event()
    measured: list[float] = []

    def write() -> None:
        start = time.monotonic()
        n = 0
        while n < total:
            n = writer.lines(n, 200)
            if n % per_roll == 0 and n < total:
                writer.rotate()
            ahead = n / rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)  # pacing the writer, not waiting for the tailer
        measured.append(total / (time.monotonic() - start))
        done.set()

    with Running(Tailer([source(writer.latest)], sink, sink.store)):
        thread = threading.Thread(target=write)
        thread.start()
        assert done.wait(WAIT)
        thread.join()
        assert sink.wait_until(have(total), WAIT), len(sink.entries)
    writer.close()
    assert measured[0] >= 10_000
    assert counters(sink.entries) == list(range(total))
    assert len(list(logs.glob("*.log.gz"))) == total // per_roll - 1


def test_polling_fallback_without_inotify(logs: Path) -> None:
    """With inotify off, growth and a roll are still noticed by the polling tick."""
    writer = Log4jWriter(logs, gzip_async=False)
    sink = MemorySink()
    tailer = Tailer([source(writer.latest)], sink, sink.store, poll_seconds=0.05, use_inotify=False)
    with Running(tailer):
        n = writer.lines(0, 100)
        assert sink.wait_until(have(n), WAIT)
        writer.rotate()
        n = writer.lines(n, 100)
        assert sink.wait_until(have(n), WAIT)
    assert counters(sink.entries) == list(range(n))


def test_log_directory_appearing_later(tmp_path: Path, caplog) -> None:
    """A server whose logs/ does not exist yet is waited for (one message), then followed."""
    logs = tmp_path / "new-server" / "logs"
    sink = MemorySink()
    looks = threading.Semaphore(0)
    tailer = Tailer([source(logs / "latest.log")], sink, sink.store, poll_seconds=0.05)
    original = tailer.followers[0].step

    def counted_step(budget: int = 1 << 20) -> bool:
        looks.release()
        return original(budget)

    tailer.followers[0].step = counted_step  # type: ignore[method-assign]
    with caplog.at_level(logging.INFO), Running(tailer):
        for _ in range(5):  # several polls while the directory is missing
            assert looks.acquire(timeout=WAIT)
        writer = Log4jWriter(logs)
        n = writer.lines(0, 50)
        assert sink.wait_until(have(n), WAIT)
    assert counters(sink.entries) == list(range(n))
    missing = [r for r in caplog.records if r.getMessage().startswith(events.FILE_MISSING)]
    assert len(missing) == 1


def test_full_sink_pauses_reading(logs: Path) -> None:
    """While the sink has no room nothing is read; reading resumes when room returns."""
    writer = Log4jWriter(logs)

    class CountingSink(MemorySink):
        def __init__(self) -> None:
            super().__init__()
            self.waits = threading.Semaphore(0)

        def wait_for_room(self, timeout: float | None = None) -> bool:
            self.waits.release()
            return super().wait_for_room(min(timeout or 0.05, 0.05))

    sink = CountingSink()
    sink.room.clear()
    with Running(Tailer([source(writer.latest)], sink, sink.store, poll_seconds=0.05)):
        n = writer.lines(0, 100)
        for _ in range(3):
            assert sink.waits.acquire(timeout=WAIT)
        assert sink.entries == []
        sink.room.set()
        assert sink.wait_until(have(n), WAIT)
    assert counters(sink.entries) == list(range(n))


def test_several_servers_in_one_tailer(tmp_path: Path) -> None:
    """Two servers on one host are followed by one tailer, each with its own checkpoint."""
    writers = [Log4jWriter(tmp_path / name / "logs") for name in ("survival", "creative")]
    sink = MemorySink()
    sources = [
        source(w.latest, name) for w, name in zip(writers, ("survival", "creative"), strict=True)
    ]
    with Running(Tailer(sources, sink, sink.store)):
        for writer in writers:
            writer.lines(0, 100)
        assert sink.wait_until(have(200), WAIT)
    for name in ("survival", "creative"):
        mine = [e for e in sink.entries if e.server_id == name]
        assert counters(mine) == list(range(100))
        saved = sink.store.checkpoint(name)
        assert saved is not None and saved.offset == mine[-1].end


def test_follow_entry_point_with_dry_run_sink(logs: Path) -> None:
    """follow() prints JSON lines through the dry-run sink and stops on its stop event."""
    writer = Log4jWriter(logs)
    writer.lines(0, 5)
    printed: list[str] = []
    got_all = threading.Event()

    class Out(io.RawIOBase):
        def write(self, data: bytes) -> int:  # type: ignore[override]
            printed.extend(data.decode().splitlines())
            if len(printed) >= 5:
                got_all.set()
            return len(data)

    sink = PrintSink(EntryEncoder(EntryFilter.create(), Metrics()), out=Out())  # type: ignore[arg-type]
    store = MemoryCheckpointStore()
    stop = threading.Event()
    thread = threading.Thread(
        target=follow,
        args=([source(writer.latest)], sink, store, stop),
        kwargs={"poll_seconds": 0.05},
    )
    thread.start()
    assert got_all.wait(WAIT)
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert [json.loads(line)["message"] for line in printed] == [
        f"<Steve> message {n}" for n in range(5)
    ]
    assert store.checkpoint("survival") is None  # a dry run commits nothing


def test_memory_sink_commits_checkpoint_with_entries() -> None:
    """The in-memory sink stores the checkpoint it is handed as the server's latest."""
    sink = MemorySink()
    sink.deliver([], Checkpoint("s", "abc", 10))
    sink.deliver([], Checkpoint("s", "def", 5))
    assert sink.store.checkpoint("s") == Checkpoint("s", "def", 5)
    assert sink.store.checkpoint_for("s", "abc") == Checkpoint("s", "abc", 10)


def test_log_directory_replaced_while_running(logs: Path) -> None:
    """logs/ removed and created again (server reinstalled): the new latest.log is followed."""
    writer = Log4jWriter(logs)
    sink = MemorySink()
    with Running(Tailer([source(writer.latest)], sink, sink.store, poll_seconds=0.05)):
        n = writer.lines(0, 20)
        assert sink.wait_until(have(n), WAIT)
        writer.close()
        shutil.rmtree(logs)
        writer = Log4jWriter(logs)
        n = writer.lines(n, 20)
        assert sink.wait_until(have(n), WAIT)
    assert counters(sink.entries) == list(range(n))
