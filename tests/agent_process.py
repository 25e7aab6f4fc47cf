"""Starting the real agent as a child process, with no SERVEROPS_* settings leaking in,
and waiting for what it does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

DEADLINE = 60.0  # generous: a loaded 2-core machine; a passing test returns at once


def wait_for(condition: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    """Poll ``condition`` until it holds, bounded by ``timeout``: the agent is another
    process (or thread) with no event to wait on."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def agent_env(**extra: str) -> dict[str, str]:
    """This process's environment without SERVEROPS_* variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVEROPS_")}
    env.update(extra)
    return env


def write_config(
    tmp_path: Path, url: str, token: str, *, lines: bytes, api: str = "", extra: str = ""
) -> Path:
    """A config for one server, ``survival``, read from the beginning of
    ``tmp_path/survival/logs/latest.log`` (written with ``lines``) in UTC; the token in
    ``tmp_path/token``, the state in ``tmp_path/state``. ``api`` adds ``[api]`` keys,
    ``extra`` tables. Called again on the same ``tmp_path`` it rewrites the log."""
    logs = tmp_path / "survival" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (logs / "latest.log").write_bytes(lines)
    (tmp_path / "token").write_text(token + "\n")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[api]\nurl = "{url}"\ntoken_file = "{tmp_path / "token"}"\n{api}'
        f'[state]\ndir = "{tmp_path / "state"}"\n'
        f'[[servers]]\nid = "survival"\nlog = "{logs / "latest.log"}"\n'
        'read_from = "beginning"\ntimezone = "UTC"\n'
        "[reader]\nmultiline_idle_seconds = 0.2\n" + extra
    )
    return config


def agent_command(config: Path, *args: str) -> list[str]:
    """``python -m agent run --config CONFIG ARGS...``."""
    return [sys.executable, "-m", "agent", "run", "--config", str(config), *args]


def run_agent(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the agent to its end (for runs that stop by themselves, e.g. on a bad config)."""
    return agent_cli("run", "--config", str(config), *args)


def agent_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m agent ARGS...`` run to its end, its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=agent_env(),
    )


def stop(agent: subprocess.Popen[bytes]) -> int:
    """SIGTERM to a running agent, and its exit code (killed if it has not ended in 30 s)."""
    if agent.poll() is None:
        agent.send_signal(signal.SIGTERM)
    try:
        return agent.wait(timeout=30)
    finally:
        if agent.poll() is None:
            agent.kill()
