"""Servers found by a glob while the tailer runs: appearing, vanishing, coming back, clashing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from agent_process import wait_for
from tail_writer import mc_line
from test_tail_live import WAIT, Running, counters

from agent import events
from agent.metrics import Metrics
from agent.model import Entry
from agent.parse.reader import ReaderOptions
from agent.sources.tail import ReadFrom, ServerSource, Tailer
from agent.sources.tail.sink import MemorySink


def glob_source(pattern: Path, read_from: ReadFrom = ReadFrom.END) -> ServerSource:
    return ServerSource("{1}", pattern, read_from, ReaderOptions(idle_flush_seconds=0.05))


def make_server(where: Path, first: int, count: int) -> Path:
    """A server folder with ``logs/latest.log`` holding lines first..first+count-1."""
    logs = where / "logs"
    logs.mkdir(parents=True)
    (logs / "latest.log").write_bytes(b"".join(mc_line(n) for n in range(first, first + count)))
    return where


def append(server: Path, first: int, count: int) -> int:
    with (server / "logs" / "latest.log").open("ab") as log:
        for n in range(first, first + count):
            log.write(mc_line(n))
    return first + count


def of(server_id: str, entries: list[Entry]) -> list[int]:
    return counters([e for e in entries if e.server_id == server_id])


def has(server_id: str, count: int) -> Callable[[list[Entry]], bool]:
    return lambda entries: len(of(server_id, entries)) >= count


def poll(condition: Callable[[], bool], what: str) -> None:
    """Bounded poll of the tailer's state (a thread with no event to wait on)."""
    wait_for(condition, what, WAIT)


def followed(tailer: Tailer) -> set[str]:
    return {f.source.server_id for f in tailer.followers}


def open_paths() -> set[str]:
    paths = set()
    for fd in Path("/proc/self/fd").iterdir():
        try:
            paths.add(str(fd.readlink()))
        except OSError:
            continue
    return paths


def test_a_server_moved_in_is_found_on_the_folder_event_and_read_from_its_start(
    tmp_path: Path,
) -> None:
    """Servers present at start follow read_from (end); one that appears later is read
    from the beginning of its file, found through the inotify event on the glob's root
    (the periodic rescan is set to an hour, so only the event can find it)."""
    root = tmp_path / "volumes"
    old = make_server(root / "old", 0, 5)
    sink = MemorySink()
    tailer = Tailer(
        [glob_source(root / "*" / "logs" / "latest.log")], sink, sink.store, rescan_seconds=3600
    )
    assert followed(tailer) == {"old"}
    with Running(tailer):
        poll(lambda: tailer.followers[0].phase.value == "live", "old opened")
        append(old, 5, 3)
        assert sink.wait_until(has("old", 3), WAIT)
        staged = make_server(tmp_path / "staging" / "new", 0, 4)
        staged.rename(root / "new")  # appears at once, complete (as a panel creates it)
        assert sink.wait_until(has("new", 4), WAIT)
        append(root / "new", 4, 2)
        assert sink.wait_until(has("new", 6), WAIT)
    assert of("old", sink.entries) == [5, 6, 7]
    assert of("new", sink.entries) == list(range(6))


def test_vanished_server_is_released_and_resumes_when_it_comes_back(tmp_path: Path) -> None:
    """A server whose folder goes is released (file closed, its metric series dropped,
    checkpoint kept); back in place it resumes from its checkpoint: each line once.
    Polling only, with a short rescan, to show the periodic path."""
    root = tmp_path / "volumes"
    server = make_server(root / "a", 0, 3)
    make_server(root / "b", 0, 1)
    sink = MemorySink()
    metrics = Metrics()
    tailer = Tailer(
        [glob_source(root / "*" / "logs" / "latest.log", ReadFrom.BEGINNING)],
        sink,
        sink.store,
        poll_seconds=0.05,
        use_inotify=False,
        rescan_seconds=0.1,
        metrics=metrics,
    )
    latest = str(server / "logs" / "latest.log")
    with Running(tailer):
        assert sink.wait_until(has("a", 3), WAIT)
        poll(lambda: "a" in metrics.by_label(metrics.server_lag_bytes, "server_id"), "lag")
        assert latest in open_paths()
        away = tmp_path / "away"
        server.rename(away)
        poll(lambda: followed(tailer) == {"b"}, "a released")
        assert latest not in open_paths() and str(away / "logs" / "latest.log") not in open_paths()
        assert "a" not in metrics.by_label(metrics.server_lag_bytes, "server_id")
        append(away, 3, 2)  # written while released: read when it is back
        away.rename(server)
        assert sink.wait_until(has("a", 5), WAIT)
        append(server, 5, 1)
        assert sink.wait_until(has("a", 6), WAIT)
    assert of("a", sink.entries) == list(range(6))
    assert of("b", sink.entries) == [0]


def test_an_id_clash_at_run_time_is_logged_once_and_the_first_server_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two globs fill the same id: the server followed first keeps it, the other is logged
    (once, not at every rescan) and not read."""
    first = make_server(tmp_path / "one" / "x", 0, 2)
    sink = MemorySink()
    tailer = Tailer(
        [
            glob_source(tmp_path / "one" / "*" / "logs" / "latest.log", ReadFrom.BEGINNING),
            glob_source(tmp_path / "two" / "*" / "logs" / "latest.log", ReadFrom.BEGINNING),
        ],
        sink,
        sink.store,
        poll_seconds=0.05,
        use_inotify=False,
        rescan_seconds=0.05,
    )
    with caplog.at_level(logging.INFO), Running(tailer):
        assert sink.wait_until(has("x", 2), WAIT)
        make_server(tmp_path / "two" / "x", 100, 3)
        make_server(tmp_path / "two" / "y", 0, 1)
        assert sink.wait_until(has("y", 1), WAIT)
        make_server(tmp_path / "two" / "z", 0, 1)  # found by a later rescan
        assert sink.wait_until(has("z", 1), WAIT)
        append(first, 2, 1)
        assert sink.wait_until(has("x", 3), WAIT)
        clashes_logged = caplog.text.count(events.SERVER_ID_CLASH)
    assert of("x", sink.entries) == [0, 1, 2]
    assert clashes_logged == 1
    clash = next(r for r in caplog.records if r.getMessage().startswith(events.SERVER_ID_CLASH))
    assert str(tmp_path / "two" / "x") in clash.getMessage()
