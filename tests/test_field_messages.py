"""Issue 10 item 9: messages that name the cause.

* a bad ``SERVEROPS_API__CONCURRENCY`` names the variable, not ``config.toml``;
* a file-size limit (``ulimit -f``) says so instead of SQLite's "disk I/O error";
* ``logging.level = "debug"`` logs checkpoints, and the whole stderr of a debug run never
  holds the token.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import agent_process
from agent_process import agent_command, agent_env, run_agent, stop, wait_for
from receiver import Receiver
from test_daemon_e2e import chat_lines

TOKEN = "so_test_fieldmessages0"
SECRET_PART = "fieldmessages0"


def write_config(tmp_path: Path, url: str, *, extra: str = "", lines: bytes = b"") -> Path:
    lines = lines or chat_lines(0, 50)
    return agent_process.write_config(tmp_path, url, TOKEN, lines=lines, extra=extra)


def test_a_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9")
    result = subprocess.run(
        agent_command(config),
        capture_output=True,
        text=True,
        timeout=60,
        env=agent_env(SERVEROPS_API__CONCURRENCY="eight"),
    )
    assert result.returncode == 2
    assert "environment variable SERVEROPS_API__CONCURRENCY (api.concurrency)" in result.stderr
    assert str(config) not in result.stderr  # the file is not the culprit


def test_a_bad_file_value_still_names_the_file(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9", extra="[spool]\nmax_bytes = 1\n")
    result = run_agent(config)
    assert result.returncode == 2 and f"{config}: spool.max_bytes" in result.stderr


FSIZE_LIMIT = 256 * 1024


# A launcher that sets the limit, as ``ulimit -f`` does, then execs the agent (not a
# preexec_fn: the receiver's thread runs in this process). SIGXFSZ stays ignored (Python
# ignores it at start; said here too) so the write fails with EFBIG instead of killing
# the process before it can say why.
LIMITED = (
    "import os, resource, signal, sys;"
    " signal.signal(signal.SIGXFSZ, signal.SIG_IGN);"
    " limit = int(sys.argv[1]);"
    " resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit));"
    " os.execv(sys.executable, [sys.executable, *sys.argv[2:]])"
)


def test_a_file_size_limit_is_named(tmp_path: Path) -> None:
    """The daemon spools more than the limit allows: it stops (exit 1) saying that a
    file-size limit was hit, not "disk I/O error" alone."""
    lines = chat_lines(0, 4000)  # about 280 KB of log, more than that once spooled
    with Receiver(token=TOKEN) as rx:
        rx.state.faults.error_rate = 1.0  # nothing leaves the spool: it has to grow
        config = write_config(tmp_path, rx.url, lines=lines)
        command = agent_command(config)
        result = subprocess.run(
            [sys.executable, "-c", LIMITED, str(FSIZE_LIMIT), *command[1:]],
            capture_output=True,
            text=True,
            timeout=120,
            env=agent_env(),
        )
    assert result.returncode == 1, result.stderr
    assert "a file-size limit was hit" in result.stderr
    assert f"at most {FSIZE_LIMIT} bytes" in result.stderr


def test_debug_run_logs_checkpoints_and_never_the_token(tmp_path: Path) -> None:
    with Receiver(token=TOKEN) as rx:
        config = write_config(tmp_path, rx.url, extra='[logging]\nlevel = "debug"\n')
        log = tmp_path / "agent.log"
        agent = subprocess.Popen(
            agent_command(config), stderr=log.open("wb"), stdout=subprocess.DEVNULL, env=agent_env()
        )
        try:
            wait_for(lambda: rx.state.accepted_total >= 50, "the entries")
            (tmp_path / "token").write_text(TOKEN + "\n")
            agent.send_signal(signal.SIGHUP)  # the token is read again, logged at debug too
            wait_for(lambda: "config.reloaded" in log.read_text(), "the reload")
        finally:
            code = stop(agent)
        assert code == 0
    text = log.read_text()
    assert "debug spool.checkpoint: survival" in text
    assert SECRET_PART not in text and TOKEN not in text
