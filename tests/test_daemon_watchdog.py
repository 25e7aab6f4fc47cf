"""The daemon's watchdog requires the uploader to be alive (issue 10, item 1): an uploader
whose workers died makes the daemon stop with exit 1 and one line, for systemd to restart
it, instead of tailing on into the spool while `status` says all is well."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from agent import events
from agent.app.config import load_config
from agent.app.daemon import Daemon


class DeadUploader:
    """Runs forever, but says it is not alive (as after its workers died)."""

    alive = False

    def __init__(self) -> None:
        self._stopped = asyncio.Event()

    async def run(self) -> None:
        await self._stopped.wait()

    def request_stop(self) -> None:
        self._stopped.set()


class FailingUploader(DeadUploader):
    """Ends with an exception that is not an AgentError (a bug)."""

    async def run(self) -> None:
        raise RuntimeError("a bug in the uploader")


def make_daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Daemon:
    log = tmp_path / "latest.log"
    log.write_bytes(b"")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[api]\nurl = "http://127.0.0.1:9"\ntoken = "so_test_watchdog0000"\n'
        f'[state]\ndir = "{tmp_path / "state"}"\n'
        f'[[servers]]\nid = "s"\nlog = "{log}"\ntimezone = "UTC"\n'
    )
    for name in ("SERVEROPS_TOKEN", "NOTIFY_SOCKET", "WATCHDOG_USEC"):
        monkeypatch.delenv(name, raising=False)
    return Daemon(config, load_config(config), dry_run=False)


@pytest.mark.parametrize("uploader", [DeadUploader, FailingUploader])
def test_a_dead_uploader_ends_the_daemon_with_exit_1(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    uploader: type[DeadUploader],
) -> None:
    daemon = make_daemon(tmp_path, monkeypatch)
    daemon.uploader = uploader()  # type: ignore[assignment]
    monkeypatch.setattr(daemon, "_publish_status", lambda: None)  # the stub has no status
    code = asyncio.run(asyncio.wait_for(daemon.run(), 30))
    assert code == 1
    failed = [
        r.getMessage() for r in caplog.records if r.getMessage().startswith(events.SHIP_FAILED)
    ]
    assert failed and all("\n" not in message for message in failed)
    assert logging.ERROR in {r.levelno for r in caplog.records}
