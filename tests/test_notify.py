"""sd_notify against a real unix datagram socket."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.app.notify import Notifier, watchdog_interval_seconds


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(5)
    yield sock, path
    sock.close()


class TestNotifier:
    def test_ready_watchdog_stopping_reach_the_socket(
        self, receiver: tuple[socket.socket, str]
    ) -> None:
        """Each call sends one datagram with systemd's KEY=VALUE lines."""
        sock, path = receiver
        notifier = Notifier(path)
        notifier.ready("following 2 servers")
        assert sock.recv(4096) == b"READY=1\nSTATUS=following 2 servers"
        notifier.watchdog()
        assert sock.recv(4096) == b"WATCHDOG=1"
        notifier.stopping()
        assert sock.recv(4096) == b"STOPPING=1"

    def test_abstract_socket_name(self) -> None:
        """An @name socket is the abstract namespace (a leading NUL byte)."""
        name = f"serverops-test-{os.getpid()}"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind("\0" + name)
            sock.settimeout(5)
            Notifier("@" + name).ready()
            assert sock.recv(4096) == b"READY=1"

    def test_without_systemd_nothing_happens(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """No NOTIFY_SOCKET: disabled, and calls are harmless."""
        monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
        notifier = Notifier()
        assert not notifier.enabled
        notifier.ready()

    def test_a_vanished_socket_is_logged_once(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A socket that is gone gives one warning, not one per call, and no exception."""
        notifier = Notifier(str(tmp_path / "gone.sock"))
        notifier.watchdog()
        notifier.watchdog()
        assert len([r for r in caplog.records if "notify_failed" in r.getMessage()]) == 1


@pytest.mark.parametrize(
    ("usec", "pid", "expected"),
    [
        ("60000000", None, 30.0),
        ("60000000", "self", 30.0),
        ("60000000", "1", None),
        (None, None, None),
    ],
)
def test_watchdog_interval(
    monkeypatch: pytest.MonkeyPatch, usec: str | None, pid: str | None, expected: float | None
) -> None:
    """Half of WATCHDOG_USEC, only when WATCHDOG_PID is ours or absent."""
    for name, value in (("WATCHDOG_USEC", usec), ("WATCHDOG_PID", pid)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, str(os.getpid()) if value == "self" else value)
    assert watchdog_interval_seconds() == expected
