"""`check` and `status` list the servers a glob stands for: the paths matched and their ids."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.app.check import run_checks
from agent.app.config import load_config
from agent.cli.main import app
from agent.model import Checkpoint
from agent.parse.fingerprint import fingerprint
from agent.state.spool import SPOOL_FILE, Spool, SpoolOptions
from agent.testing import FakeTransport, api_error, make_records

runner = CliRunner()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("SERVEROPS_")]:
        monkeypatch.delenv(name)


def write_config(tmp_path: Path, servers: tuple[str, ...] = ("alpha", "beta")) -> Path:
    for name in servers:
        logs = tmp_path / "volumes" / name / "logs"
        logs.mkdir(parents=True)
        (logs / "latest.log").write_bytes(b"[10:00:00] [Server thread/INFO]: Starting\n" * 4)
    (tmp_path / "token").write_text("so_test_listingtoken00\n")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[api]\nurl = "https://api.example.com"\ntoken_file = "{tmp_path / "token"}"\n'
        f'[state]\ndir = "{tmp_path / "state"}"\n'
        f'[[servers]]\nid = "mc-{{1}}"\nlog = "{tmp_path}/volumes/*/logs/latest.log"\n'
        f'[[servers]]\nid = "{{1}}"\nlog = "{tmp_path}/empty/*/logs/latest.log"\n'
    )
    return config


def test_check_lists_each_globs_matches_and_checks_each_server(tmp_path: Path) -> None:
    """One line per glob (how many, which ids from which paths; WARN when none yet), then
    one readability line per server found."""
    config = load_config(write_config(tmp_path))
    transport = FakeTransport(lambda body, key: api_error(400, "bad_request", "level required"))
    results = {r.name: r for r in run_checks(config, transport=transport)}
    glob = results["servers.0"]
    assert glob.ok and not glob.warning
    assert "2 server(s) found" in glob.detail
    assert f"mc-alpha ({tmp_path}/volumes/alpha/logs/latest.log)" in glob.detail
    assert results["log mc-beta"].ok and "readable" in results["log mc-beta"].detail
    empty = results["servers.1"]
    assert empty.ok and empty.warning and "0 server(s) found" in empty.detail


def test_status_shows_every_server_found(tmp_path: Path) -> None:
    """status has one line per server a glob matches now, with its filled id and path."""
    config = write_config(tmp_path)
    log = tmp_path / "volumes" / "alpha" / "logs" / "latest.log"
    spool = Spool(SpoolOptions(tmp_path / "state" / SPOOL_FILE))
    spool.append(
        make_records(3, server_id="mc-alpha"),
        Checkpoint("mc-alpha", fingerprint(log.read_bytes()), 10),
    )
    spool.close()
    result = runner.invoke(app, ["status", "--config", str(config)])
    assert result.exit_code == 3, result.output  # no daemon holds the lock: not running
    lag = log.stat().st_size - 10
    assert f"server mc-alpha: 3 pending, lag {lag} bytes, log {log}" in result.output
    assert "server mc-beta: 0 pending" in result.output


def test_backfill_takes_an_id_filled_from_a_glob(tmp_path: Path) -> None:
    """backfill --server-id accepts a server a glob stands for (not only literal ids)."""
    config = write_config(tmp_path)
    log = tmp_path / "volumes" / "alpha" / "logs" / "latest.log"
    args = ["backfill", str(log), "--config", str(config), "--server-id", "mc-alpha", "--dry-run"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert '"server_id":"mc-alpha"' in result.output.replace(" ", "")
