"""The tailer's waker: inotify events name the folder that changed, in the tailer's thread."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from agent.sources.tail.watcher import Waker

WAIT = 10.0  # generous: a loaded machine


@pytest.fixture
def waker():
    waker = Waker()
    waker.start()
    yield waker
    waker.stop()


def test_a_write_names_its_folder_only(tmp_path: Path, waker: Waker) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    waker.watch(a)
    waker.watch(b)
    assert waker.watching
    with (b / "latest.log").open("ab") as log:
        log.write(b"line\n")
    assert waker.wait(WAIT) == {b}


def test_a_timeout_is_an_empty_set_and_wake_asks_for_every_follower(
    tmp_path: Path, waker: Waker
) -> None:
    waker.watch(tmp_path)
    assert waker.wait(0.05) == set()
    threading.Timer(0.05, waker.wake).start()
    assert waker.wait(WAIT) is None


def test_a_folder_created_under_a_root_asks_for_a_rescan(tmp_path: Path, waker: Waker) -> None:
    waker.watch_root(tmp_path)
    (tmp_path / "new-server").mkdir()
    assert waker.wait(WAIT) == set()  # no follower's folder changed
    assert waker.rescan.is_set()


def test_an_unwatched_folder_wakes_nobody(tmp_path: Path, waker: Waker) -> None:
    waker.watch(tmp_path)
    waker.unwatch(tmp_path)
    (tmp_path / "latest.log").write_bytes(b"line\n")
    assert waker.wait(0.2) == set()
    assert not waker.watched(tmp_path)
