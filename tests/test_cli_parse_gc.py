"""``serverops-agent parse`` tunes the cycle collector while it parses and restores it."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli import backfill as cli_backfill
from agent.cli import parse as cli_parse
from agent.cli.collector import YOUNG_THRESHOLD
from agent.cli.main import app

LINE = b"[10:00:00] [Server thread/INFO]: <Steve> hello\n"
ARGS = ["--server-id", "s1", "--timezone", "UTC", "--date", "2026-11-21"]


def test_collector_is_tuned_while_parsing_and_restored_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While files are parsed the young threshold is raised; afterwards all is as before."""
    log = tmp_path / "latest.log"
    log.write_bytes(LINE * 3)
    seen: list[int] = []
    parse_path = cli_parse._parse_path

    def spying(*args: object) -> str | None:
        seen.append(gc.get_threshold()[0])
        return parse_path(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(cli_parse, "_parse_path", spying)
    before = gc.get_threshold(), gc.get_freeze_count()
    result = CliRunner().invoke(app, ["parse", str(log), *ARGS])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 3
    assert seen == [YOUNG_THRESHOLD]
    assert (gc.get_threshold(), gc.get_freeze_count()) == before


def test_collector_is_restored_after_an_unreadable_file(tmp_path: Path) -> None:
    """A file that cannot be read (exit 1) still leaves the collector as it was."""
    before = gc.get_threshold(), gc.get_freeze_count()
    result = CliRunner().invoke(app, ["parse", str(tmp_path / "missing.log"), *ARGS])
    assert result.exit_code == 1
    assert (gc.get_threshold(), gc.get_freeze_count()) == before


def test_backfill_dry_run_tunes_the_collector_and_restores_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``backfill --dry-run`` parses like ``parse`` (and forks its workers) with the
    collector tuned; afterwards it is as before."""
    log = tmp_path / "2026-11-21-1.log"
    log.write_bytes(LINE * 3)
    seen: list[int] = []
    run_dry = cli_backfill.run_dry

    def spying(*args: object, **kwargs: object) -> None:
        seen.append(gc.get_threshold()[0])
        run_dry(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cli_backfill, "run_dry", spying)
    before = gc.get_threshold(), gc.get_freeze_count()
    result = CliRunner().invoke(app, ["backfill", str(log), "--dry-run", "--timezone", "UTC"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 3
    assert seen == [YOUNG_THRESHOLD]
    assert (gc.get_threshold(), gc.get_freeze_count()) == before
