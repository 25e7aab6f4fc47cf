"""Issue 10 items 2 and 5: one process per state dir, and ``status`` that can be trusted.

Real child processes: the daemon (``python -m agent run``) against the receiver, a second
``run``, a ``run --dry-run``, and ``status`` through the CLI, whose liveness is the lock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import agent_process
import pytest
from agent_process import agent_cli, agent_command, agent_env, stop, wait_for
from receiver import Receiver
from test_daemon_e2e import chat_lines

from agent.state import lock as state_lock

TOKEN = "so_test_lockertoken00"
# A child that holds the state dir's lock until its stdin closes (a daemon draining).
HOLD_LOCK = (
    "import sys; from pathlib import Path; from agent.state import lock;"
    " held = lock.acquire(Path(sys.argv[1])); print('locked', flush=True); sys.stdin.read()"
)


def write_config(tmp_path: Path, url: str) -> Path:
    return agent_process.write_config(tmp_path, url, TOKEN, lines=chat_lines(0, 30))


def start(config: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        agent_command(config, *args),
        stderr=log.open("wb"),
        stdout=subprocess.DEVNULL,
        env=agent_env(),
    )


def both(
    first: tuple[str, ...], second: tuple[str, ...]
) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    """Two commands run at once, each to its end (as :func:`agent_cli` runs one)."""
    with ThreadPoolExecutor(2) as pool:
        one, two = pool.submit(agent_cli, *first), pool.submit(agent_cli, *second)
        return one.result(), two.result()


def hold_lock(state_dir: Path, *argv: str) -> subprocess.Popen[str]:
    """A process holding the state dir's lock (``argv``: more words on its command line)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(state_dir), *argv],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=agent_env(),
    )
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    return holder


class TestTwoAgents:
    def test_second_run_and_backfill_exit_2_naming_the_pid_nothing_sent_twice(
        self, tmp_path: Path
    ) -> None:
        with Receiver(token=TOKEN) as rx:
            config = write_config(tmp_path, rx.url)
            first = start(config, tmp_path / "first.log")
            try:
                wait_for(lambda: rx.state.accepted_total >= 30, "the first run's entries")
                logs = str(tmp_path / "survival" / "logs")
                # Both wait out the lock's grace period (5 s): side by side, not in turn.
                second, backfill = both(
                    ("run", "--config", str(config)), ("backfill", logs, "--config", str(config))
                )
                assert second.returncode == 2, second.stderr
                assert f"pid {first.pid}" in second.stderr and "Traceback" not in second.stderr
                assert backfill.returncode == 2, backfill.stderr
                assert f"pid {first.pid}" in backfill.stderr
                lock_file = tmp_path / "state" / state_lock.LOCK_FILE
                assert lock_file.stat().st_mode & 0o777 == 0o600
                assert lock_file.read_text().strip() == str(first.pid)
            finally:
                assert stop(first) == 0
            accepted = dict(rx.state.accepted)
        assert len(accepted) == 30 and max(accepted.values()) == 1

    def test_run_waits_for_a_draining_holder(self, tmp_path: Path) -> None:
        """A holder that lets go within the wait: the new run starts and ships."""
        with Receiver(token=TOKEN) as rx:
            config = write_config(tmp_path, rx.url)
            holder = hold_lock(tmp_path / "state")
            agent = start(config, tmp_path / "agent.log")
            try:
                log = tmp_path / "agent.log"
                wait_for(lambda: "state.lock_wait" in log.read_text(), "the wait message")
                holder.communicate("", timeout=30)  # the old process finishes draining
                wait_for(lambda: rx.state.accepted_total >= 30, "the new run's entries")
            finally:
                holder.kill()
                holder.wait()
                assert stop(agent) == 0

    def test_dry_run_takes_no_lock(self, tmp_path: Path) -> None:
        config = write_config(tmp_path, "http://127.0.0.1:9")
        holder = hold_lock(tmp_path / "state")
        try:
            agent = subprocess.Popen(
                agent_command(config, "--dry-run"),
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=agent_env(),
            )
            assert agent.stdout is not None
            assert b'"message"' in agent.stdout.readline()  # it runs and prints
            assert stop(agent) == 0
        finally:
            holder.communicate("", timeout=30)


class TestStatus:
    def test_liveness_is_the_lock_not_the_heartbeat(self, tmp_path: Path) -> None:
        """Running: exit 0 with the pid. Killed with -9: not running at once (exit 3),
        although its heartbeat is seconds old."""
        with Receiver(token=TOKEN) as rx:
            config = write_config(tmp_path, rx.url)
            agent = start(config, tmp_path / "agent.log")
            try:
                wait_for(lambda: rx.state.accepted_total >= 30, "the entries")
                wait_for(
                    lambda: agent_cli("status", "--config", str(config)).returncode == 0,
                    "a healthy status",
                )
                running = json.loads(agent_cli("status", "--json", "--config", str(config)).stdout)
                assert running["running"] and running["pid"] == agent.pid
                assert running["holder"] == "run"
                assert running["health"] == "healthy" and running["exit_code"] == 0
            finally:
                agent.kill()
                agent.wait(timeout=30)
            dead = agent_cli("status", "--config", str(config))
        assert dead.returncode == 3, dead.stdout + dead.stderr
        assert "health:        not running" in dead.stdout
        assert "sending:       stopped" in dead.stdout

    def test_unreadable_state_exits_2_with_a_hint(self, tmp_path: Path) -> None:
        """A state dir that cannot be read (here a file: root ignores permission bits):
        exit 2, the hint to run as the agent's user, no traceback."""
        config = write_config(tmp_path, "https://api.example.com")
        (tmp_path / "state").write_text("not a directory")
        result = agent_cli("status", "--config", str(config))
        assert result.returncode == 2, result.stdout + result.stderr
        assert "not a directory" in result.stderr
        assert "sudo -u serverops-agent" in result.stderr and "Traceback" not in result.stderr

    @pytest.mark.skipif(os.geteuid() == 0, reason="root reads a 0700 directory anyway")
    def test_another_users_state_dir_exits_2(self, tmp_path: Path) -> None:
        config = write_config(tmp_path, "https://api.example.com")
        (tmp_path / "state").mkdir()
        (tmp_path / "state").chmod(0)
        try:
            result = agent_cli("status", "--config", str(config))
        finally:
            (tmp_path / "state").chmod(0o700)
        assert result.returncode == 2 and "sudo -u serverops-agent" in result.stderr

    def test_a_damaged_spool_exits_2(self, tmp_path: Path) -> None:
        config = write_config(tmp_path, "https://api.example.com")
        (tmp_path / "state").mkdir()
        (tmp_path / "state" / "spool.sqlite3").write_bytes(b"this is not a database" * 100)
        result = agent_cli("status", "--config", str(config))
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr

    def test_stale_heartbeat_under_a_live_lock_is_stalled(self, tmp_path: Path) -> None:
        """A process holds the lock but has not published for minutes: degraded, exit 1."""
        from agent.state.spool import Spool, SpoolOptions

        config = write_config(tmp_path, "https://api.example.com")
        spool = Spool(SpoolOptions(tmp_path / "state" / "spool.sqlite3"))
        spool.publish_status({"pid": "1", "last_error": "none"}, time.time() - 600)
        spool.close()
        holder = hold_lock(tmp_path / "state")
        try:
            result = agent_cli("status", "--json", "--config", str(config))
        finally:
            holder.communicate("", timeout=30)
        doc = json.loads(result.stdout)
        assert result.returncode == 1 and doc["health"] == "degraded"
        assert any("stalled: no heartbeat" in problem for problem in doc["problems"])

    def test_status_names_a_backfill_holding_the_lock(self, tmp_path: Path) -> None:
        """A backfill holds the state dir: status says so, not that the daemon runs."""
        config = write_config(tmp_path, "https://api.example.com")
        holder = hold_lock(tmp_path / "state", "backfill", "logs/2026-11-20-1.log.gz")
        try:
            text = agent_cli("status", "--config", str(config))
            doc = json.loads(agent_cli("status", "--json", "--config", str(config)).stdout)
        finally:
            holder.communicate("", timeout=30)
        assert f"backfill running (pid {holder.pid}), not the daemon" in text.stdout
        assert doc["holder"] == "backfill" and doc["pid"] == holder.pid
