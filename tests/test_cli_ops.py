"""`check` and `status` through the CLI, against a real receiver and a real spool."""

from __future__ import annotations

import os
import ssl
import time
from pathlib import Path

import pytest
from receiver import Faults, Receiver
from typer.testing import CliRunner

from agent.app.check import run_checks
from agent.app.config import load_config
from agent.cli.main import app
from agent.model import Checkpoint
from agent.parse.fingerprint import fingerprint
from agent.ship.connection_errors import connection_failure
from agent.ship.transport import Answer
from agent.state import lock as state_lock
from agent.state.spool import SPOOL_FILE, Spool, SpoolOptions
from agent.testing import FakeTransport, api_error, make_records

TOKEN = "so_test_checktoken000"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("SERVEROPS_")]:
        monkeypatch.delenv(name)


def write_config(tmp_path: Path, url: str, token: str = TOKEN) -> Path:
    logs = tmp_path / "mc" / "logs"
    logs.mkdir(parents=True)
    (logs / "latest.log").write_bytes(b"[10:00:00] [Server thread/INFO]: Starting\n" * 10)
    (tmp_path / "token").write_text(token + "\n")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[api]\nurl = "{url}"\ntoken_file = "{tmp_path / "token"}"\n'
        f'[state]\ndir = "{tmp_path / "state"}"\n'
        f'[[servers]]\nid = "survival"\nlog = "{logs / "latest.log"}"\n'
        f'[[servers]]\nid = "creative"\nlog = "{tmp_path / "mc2" / "logs" / "latest.log"}"\n'
    )
    return config


class TestCheck:
    def test_all_pass_against_a_live_api(self, tmp_path: Path) -> None:
        """With a valid token the probe is refused as bad_request: token accepted, exit 1
        only because the second server's directory does not exist."""
        with Receiver(token=TOKEN) as rx:
            config = write_config(tmp_path, rx.url)
            result = runner.invoke(app, ["check", "--config", str(config)])
            stored = rx.state.accepted_total
        assert "PASS  log survival" in result.output
        assert "FAIL  log creative" in result.output
        assert "PASS  api token: accepted" in result.output
        assert "PASS  state dir" in result.output
        assert result.exit_code == 1
        assert stored == 0
        assert TOKEN not in result.output

    def test_revoked_token_and_missing_scope_fail(self, tmp_path: Path) -> None:
        """A wrong token fails as rejected; a token without logs:write names the scope."""
        with Receiver(token="so_test_othertoken00", faults=Faults()) as rx:
            config = write_config(tmp_path, rx.url)
            result = runner.invoke(app, ["check", "--config", str(config)])
            assert "FAIL  api token: rejected" in result.output
            rx.state.token = TOKEN
            rx.state.faults.forbidden = True
            result = runner.invoke(app, ["check", "--config", str(config)])
            assert "lacks the scope logs:write" in result.output
        assert result.exit_code == 1

    def test_unreachable_api_and_bad_token_format(self, tmp_path: Path) -> None:
        """Nothing listening: a clear FAIL, no traceback; a token of the wrong shape fails."""
        config = write_config(tmp_path, "http://127.0.0.1:9", token="not-a-token")
        result = runner.invoke(app, ["check", "--config", str(config)])
        assert result.exit_code == 1
        assert "FAIL  token" in result.output and "FAIL  api reachable" in result.output
        assert "Traceback" not in result.output

    def test_config_error_exits_2(self, tmp_path: Path) -> None:
        """A broken config names the key and exits 2."""
        config = tmp_path / "config.toml"
        config.write_text("[api]\nconcurrency = 0\n")
        result = runner.invoke(app, ["check", "--config", str(config)])
        assert result.exit_code == 2
        assert "api.concurrency" in result.output

    def test_the_probe_goes_through_the_transport_seam(self, tmp_path: Path) -> None:
        """check POSTs one {} through the Transport seam, reads the verdict, then closes it."""
        config = load_config(write_config(tmp_path, "http://127.0.0.1:9"))
        bodies: list[bytes] = []

        def handler(body: bytes, key: str) -> Answer:
            bodies.append(body)
            return api_error(400, "bad_request", "level required")

        fake = FakeTransport(handler)
        results = {r.name: r for r in run_checks(config, transport=fake)}
        assert bodies == [b"{}"] and fake.closed
        assert results["api reachable"].ok and "HTTP 400" in results["api reachable"].detail
        assert results["api token"].ok

    def test_a_transport_error_is_a_fail_with_its_cause(self, tmp_path: Path) -> None:
        """No answer (here a TLS failure) is a FAIL naming the error and its cause."""
        config = load_config(write_config(tmp_path, "http://127.0.0.1:9"))

        def handler(body: bytes, key: str) -> Answer:
            try:
                raise ssl.SSLCertVerificationError("certificate verify failed")
            except ssl.SSLError as exc:
                raise connection_failure(config.api.url, None, exc, connecting=True) from exc

        results = {r.name: r for r in run_checks(config, transport=FakeTransport(handler))}
        failed = results["api reachable"]
        assert not failed.ok and "certificate verify failed" in failed.detail
        assert "cannot connect to 127.0.0.1:9: TLS certificate not trusted" in failed.detail
        assert "api token" not in results


class TestStatus:
    def test_reports_pending_lag_and_daemon_state(self, tmp_path: Path) -> None:
        """status reads the spool read-only: pending and bytes as the spool counts them, per-server
        pending, lag, last success."""
        config = write_config(tmp_path, "https://api.example.com")
        log = tmp_path / "mc" / "logs" / "latest.log"
        spool = Spool(SpoolOptions(tmp_path / "state" / SPOOL_FILE))
        head = log.read_bytes()[:1024]
        records = list(make_records(5))
        spool.append(
            [type(r)(r.event_id, "survival", r.body) for r in records],
            Checkpoint("survival", fingerprint(head), 100),
        )
        spool.publish_status(
            {"last_success": "2026-11-22T10:00:00Z", "paused": "quota"}, time.time()
        )
        with state_lock.acquire(tmp_path / "state"):  # as the daemon holds it
            result = runner.invoke(app, ["status", "--config", str(config)])
        stats = spool.stats()
        spool.close()
        assert result.exit_code == 1, result.output  # degraded: sending paused
        assert f"daemon:        running (pid {os.getpid()})" in result.output
        assert f"5 entries pending, {stats.bytes} bytes" in result.output  # the cap's figure
        lag = log.stat().st_size - 100
        assert f"server survival: 5 pending, lag {lag} bytes" in result.output
        assert "server creative: 0 pending, lag log file missing" in result.output
        assert "sending:       paused: quota" in result.output
        assert "last success:  2026-11-22T10:00:00Z" in result.output

    def test_without_a_spool_it_says_not_running(self, tmp_path: Path) -> None:
        """Before the first run there is no state dir: not running, exit 3, no traceback."""
        config = write_config(tmp_path, "https://api.example.com")
        result = runner.invoke(app, ["status", "--config", str(config)])
        assert result.exit_code == 3, result.output
        assert "health:        not running" in result.output
