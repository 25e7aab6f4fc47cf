"""The console script imports only the module of the command it runs (start-up time)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
# What `parse` has no use for: the daemon's shipping, wiring and the other commands.
# (The config's validation, which parse's filters use, needs agent.ship's small modules.)
NOT_FOR_PARSE = (
    "aiohttp",
    "agent.ship.uploader",
    "agent.app.wiring",
    "agent.backfill",
    "agent.cli.backfill",
    "agent.cli.ops",
)
PROBE = """
import sys
from agent.cli import main
sys.argv = ["serverops-agent", *sys.argv[1:]]
try:
    main.main()
except SystemExit:
    pass
loaded = sorted(m for m in sys.modules if m.startswith(NOT_FOR_PARSE))
print("LOADED", *loaded, file=sys.stderr)
"""


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    code = f"NOT_FOR_PARSE = {NOT_FOR_PARSE!r}\n{PROBE}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_parse_imports_neither_the_daemon_nor_the_other_commands(tmp_path: Path) -> None:
    log = tmp_path / "latest.log"
    log.write_text("[10:00:00] [Server thread/INFO]: <Steve> hi\n")
    done = _run("parse", str(log), "--timezone", "UTC", "--date", "2026-11-21")
    assert orjson.loads(done.stdout)["message"] == "<Steve> hi"
    assert done.stderr.strip().splitlines()[-1] == "LOADED"


def test_help_without_a_command_still_lists_every_command() -> None:
    done = _run("--help")
    for command in ("run", "check", "status", "parse", "backfill", "deadletter"):
        assert f"  {command} " in done.stdout
