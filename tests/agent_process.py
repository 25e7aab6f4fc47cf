"""Starting the real agent as a child process, with no SERVEROPS_* settings leaking in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def agent_env(**extra: str) -> dict[str, str]:
    """This process's environment without SERVEROPS_* variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVEROPS_")}
    env.update(extra)
    return env


def agent_command(config: Path, *args: str) -> list[str]:
    """``python -m agent run --config CONFIG ARGS...``."""
    return [sys.executable, "-m", "agent", "run", "--config", str(config), *args]


def run_agent(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the agent to its end (for runs that stop by themselves, e.g. on a bad config)."""
    return subprocess.run(
        agent_command(config, *args),
        capture_output=True,
        text=True,
        timeout=60,
        env=agent_env(),
    )
