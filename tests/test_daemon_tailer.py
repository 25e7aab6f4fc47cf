"""The daemon's tailer runs on its event loop (agent/app/daemon.py, DaemonTailer): a pass
that raises (the spool cannot write) stops the daemon with exit 1 and one tail.failed
line; a SIGHUP-style reload swaps the tailer without losing or repeating lines."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from pathlib import Path

import pytest
from tail_writer import mc_line

from agent import events
from agent.app.config import load_config
from agent.app.daemon import Daemon
from agent.errors import SpoolError
from agent.state.spool import Spool

WAIT = 60.0


def make_daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Daemon, Path]:
    log = tmp_path / "logs" / "latest.log"
    log.parent.mkdir()
    log.write_bytes(b"".join(mc_line(n) for n in range(5)))
    config = tmp_path / "config.toml"
    config.write_text(
        f'[api]\nurl = "http://127.0.0.1:9"\ntoken = "so_test_loopdaemon000"\n'
        f'[state]\ndir = "{tmp_path / "state"}"\n'
        f'[[servers]]\nid = "s"\nlog = "{log}"\ntimezone = "UTC"\nread_from = "beginning"\n'
    )
    for name in ("SERVEROPS_TOKEN", "NOTIFY_SOCKET", "WATCHDOG_USEC"):
        monkeypatch.delenv(name, raising=False)
    return Daemon(config, load_config(config), dry_run=False), log


def test_a_failing_pass_ends_the_daemon_with_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    daemon, _ = make_daemon(tmp_path, monkeypatch)
    assert daemon.spool is not None

    def cannot_write(*args: object, **kwargs: object) -> bool:
        raise SpoolError("spool: cannot write (disk I/O error)")

    monkeypatch.setattr(daemon.spool, "append_batch", cannot_write)
    with caplog.at_level(logging.INFO):
        code = asyncio.run(asyncio.wait_for(daemon.run(), WAIT))
    assert code == 1
    assert isinstance(daemon.tailer.failure, SpoolError)
    failed = [r for r in caplog.records if r.getMessage().startswith(events.TAIL_FAILED)]
    assert len(failed) == 1 and failed[0].levelno == logging.ERROR
    assert failed[0].exc_info is not None  # the traceback, once
    reopened = Spool(daemon.spool.options)  # the daemon closed its own on exit
    try:
        assert reopened.checkpoint("s") is None  # nothing committed past the failure
    finally:
        reopened.close()


def test_the_tailer_runs_in_the_loop_thread_and_reload_resumes_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Appends come from the loop's own thread (no tailer thread); a reload between two
    writes replaces the tailer: every line spooled once."""
    daemon, log = make_daemon(tmp_path, monkeypatch)
    spool = daemon.spool
    assert spool is not None
    appenders: set[int] = set()
    original = spool.append_batch

    def noting(*args, **kwargs):
        appenders.add(threading.get_ident())
        return original(*args, **kwargs)

    monkeypatch.setattr(spool, "append_batch", noting)
    monkeypatch.setattr(daemon, "_publish_status", lambda: None)

    async def until(count: int) -> None:
        deadline = asyncio.get_running_loop().time() + WAIT
        while spool.stats().depth < count:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.01)

    async def main() -> int:
        run = asyncio.create_task(daemon.run())
        await until(4)  # the 5th line is complete when the next starts (or idle flush)
        daemon.reload()
        with log.open("ab") as out:
            out.write(b"".join(mc_line(n) for n in range(5, 10)))
        await until(10)
        daemon._stop.set()
        return await run

    code = asyncio.run(asyncio.wait_for(main(), WAIT))
    assert code == 0
    assert appenders == {threading.get_ident()}
    reopened = Spool(spool.options)  # the daemon closed its own on exit
    try:
        bodies = [r.body for r in reopened.take(10**6)]
    finally:
        reopened.close()
    assert [int(m[1]) for b in bodies if (m := re.search(rb"message (\d+)", b))] == list(range(10))
