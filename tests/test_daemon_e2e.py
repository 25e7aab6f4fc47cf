"""The real daemon in a subprocess: tail -> spool -> a real HTTP receiver on 127.0.0.1.

Writes and rotates a Minecraft log the way log4j2 does, rotates the token with SIGHUP,
stops with SIGTERM, and checks that every line arrived exactly once.
"""

from __future__ import annotations

import gzip
import json
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import pytest
from agent_process import DEADLINE, agent_command, agent_env, run_agent, stop, wait_for
from receiver import Receiver

TOKEN_1 = "so_test_firsttoken0000"
TOKEN_2 = "so_test_rotatedtoken00"


def chat_lines(first: int, count: int) -> bytes:
    return b"".join(
        b"[12:00:%02d] [Async Chat Thread - #0/INFO]: <Steve> message %d\n" % (n % 60, n)
        for n in range(first, first + count)
    )


def rotate_like_log4j(logs: Path, name: str) -> None:
    """latest.log -> NAME.log, gzip to NAME.log.gz, delete NAME.log, new latest.log."""
    plain = logs / f"{name}.log"
    (logs / "latest.log").rename(plain)
    with plain.open("rb") as src, gzip.open(logs / f"{name}.log.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    plain.unlink()
    (logs / "latest.log").write_bytes(b"")


@pytest.fixture
def minecraft(tmp_path: Path) -> Path:
    logs = tmp_path / "survival" / "logs"
    logs.mkdir(parents=True)
    (logs / "latest.log").write_bytes(chat_lines(0, 100))
    return logs


def start_agent(tmp_path: Path, url: str, logs: Path) -> subprocess.Popen[bytes]:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN_1 + "\n")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[api]\nurl = "{url}"\ntoken_file = "{token_file}"\nconcurrency = 4\n'
        f'[state]\ndir = "{tmp_path / "state"}"\n'
        f'[[servers]]\nid = "survival"\nlog = "{logs / "latest.log"}"\n'
        'read_from = "beginning"\ntimezone = "UTC"\n'
        "[reader]\nmultiline_idle_seconds = 0.2\n"
    )
    return subprocess.Popen(
        agent_command(config),
        stderr=(tmp_path / "agent.log").open("wb"),
        stdout=subprocess.DEVNULL,
        env=agent_env(),
    )


def test_run_survives_rotation_and_token_change(tmp_path: Path, minecraft: Path) -> None:
    """Every line is accepted exactly once across a rotation, a SIGHUP and a SIGTERM."""
    with Receiver(token=TOKEN_1) as rx:
        agent = start_agent(tmp_path, rx.url, minecraft)
        try:
            wait_for(lambda: rx.state.accepted_total >= 100, "the first 100 entries")
            with (minecraft / "latest.log").open("ab") as log:
                log.write(chat_lines(100, 100))
            rotate_like_log4j(minecraft, "2026-11-22-1")
            with (minecraft / "latest.log").open("ab") as log:
                log.write(chat_lines(200, 100))
            wait_for(lambda: rx.state.accepted_total >= 300, "entries across the rotation")

            (tmp_path / "token").write_text(TOKEN_2 + "\n")
            rx.state.token = TOKEN_2
            agent.send_signal(signal.SIGHUP)
            with (minecraft / "latest.log").open("ab") as log:
                log.write(chat_lines(300, 100))
            wait_for(lambda: rx.state.accepted_total >= 400, "entries after the token change")

        finally:
            code = stop(agent)
        assert code == 0
        accepted = dict(rx.state.accepted)
    log_text = (tmp_path / "agent.log").read_text()
    assert len(accepted) == 400, log_text
    assert max(accepted.values()) == 1, "an entry was sent twice"
    assert "so_test_" not in log_text
    assert "config.reloaded" in log_text


def test_config_error_exits_2_without_traceback(tmp_path: Path) -> None:
    """A wrong config makes `run` exit 2 with the key named, before anything starts."""
    config = tmp_path / "config.toml"
    config.write_text('[[servers]]\nid = "x"\nlog = "/nope"\nread_from = "middle"\n')
    result = run_agent(config)
    assert result.returncode == 2
    assert "servers.0.read_from" in result.stderr and "Traceback" not in result.stderr


def test_missing_token_exits_2(tmp_path: Path) -> None:
    """No token anywhere: a clear error naming where it may come from, exit 2."""
    config = tmp_path / "config.toml"
    config.write_text(f'[state]\ndir = "{tmp_path}"\n[[servers]]\nid = "x"\nlog = "/nope"\n')
    result = run_agent(config)
    assert result.returncode == 2
    assert "SERVEROPS_TOKEN" in result.stderr


def test_systemd_notify_ready_watchdog_stopping(tmp_path: Path, minecraft: Path) -> None:
    """Under systemd (NOTIFY_SOCKET, WATCHDOG_USEC) the daemon reports READY=1, then
    WATCHDOG=1 from its main loop, then STOPPING=1 on SIGTERM."""
    import socket

    path = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        sock.settimeout(DEADLINE)
        config = tmp_path / "config.toml"
        config.write_text(
            f'[[servers]]\nid = "survival"\nlog = "{minecraft / "latest.log"}"\n'
            f'[state]\ndir = "{tmp_path / "state"}"\n'
        )
        env = agent_env(NOTIFY_SOCKET=path, WATCHDOG_USEC="1000000")
        env.pop("WATCHDOG_PID", None)
        agent = subprocess.Popen(
            agent_command(config, "--dry-run"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        try:
            assert sock.recv(4096).startswith(b"READY=1")
            assert sock.recv(4096) == b"WATCHDOG=1"
            agent.send_signal(signal.SIGTERM)
            message = sock.recv(4096)
            while message == b"WATCHDOG=1":  # a heartbeat may come before the signal lands
                message = sock.recv(4096)
            assert message.startswith(b"STOPPING=1"), message
            assert agent.wait(timeout=30) == 0
        finally:
            if agent.poll() is None:
                agent.kill()
    assert not (tmp_path / "state").exists(), "a dry run writes no state"


def test_unwritable_state_dir_exits_1_with_the_key(tmp_path: Path, minecraft: Path) -> None:
    """A state dir that cannot be created names state.dir and exits 1, no traceback."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    (tmp_path / "token").write_text(TOKEN_1)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[api]\nurl = "http://127.0.0.1:9"\ntoken_file = "{tmp_path / "token"}"\n'
        f'[state]\ndir = "{blocker / "state"}"\n'
        f'[[servers]]\nid = "survival"\nlog = "{minecraft / "latest.log"}"\n'
    )
    result = run_agent(config)
    assert result.returncode == 1
    assert "state.dir: cannot create" in result.stderr and "Traceback" not in result.stderr


def test_dry_run_applies_the_servers_patterns(tmp_path: Path, minecraft: Path) -> None:
    """``run --dry-run`` reads with the server's [[servers.patterns]]: a plugin's chat line
    that the built-ins leave unknown is printed as chat with its username."""
    with (minecraft / "latest.log").open("ab") as log:
        log.write("[12:05:00] [Server thread/INFO]: [Member] Alex » hi there\n".encode())
    config = tmp_path / "config.toml"
    config.write_text(
        f'[[servers]]\nid = "survival"\nlog = "{minecraft / "latest.log"}"\n'
        'read_from = "beginning"\ntimezone = "UTC"\n'
        "[[servers.patterns]]\n"
        "regex = '^\\[\\w+\\] (?P<username>\\w{3,16}) » (?P<chat>.*)$'\n"
        'tags = ["chat"]\n'
        f'[state]\ndir = "{tmp_path / "state"}"\n',
        encoding="utf-8",
    )
    agent = subprocess.Popen(
        agent_command(config, "--dry-run"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=agent_env(),
    )
    bodies: list[dict] = []
    assert agent.stdout is not None

    def read_stdout() -> None:
        assert agent.stdout is not None
        for line in agent.stdout:
            bodies.append(json.loads(line))

    reader = threading.Thread(target=read_stdout, daemon=True)
    reader.start()
    try:
        wait_for(lambda: len(bodies) >= 101, "101 bodies on stdout")
    finally:
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=30) == 0
        reader.join(30)
    last = bodies[100]["meta"]
    assert (last["tags"], last["username"], last["chat"]) == (
        ["timestamp", "chat"],
        "Alex",
        "hi there",
    )
    assert [b["meta"]["username"] for b in bodies[:100]] == ["Steve"] * 100


def test_uuids_survive_a_daemon_restart(tmp_path: Path, minecraft: Path) -> None:
    """The daemon stopped (SIGTERM) and started again on the same state dir: a UUID learnt
    before the restart is on the lines read after it, and every line is sent once."""
    uuid = "8667ba71-b85a-4004-af54-457a9734eed7"
    uuid_line = f"[12:02:00] [User Authenticator #1/INFO]: UUID of player Alex is {uuid}\n"
    after_restart = b"".join(
        b"[12:03:%02d] [Server thread/INFO]: <Alex> after %d\n" % (n, n) for n in range(10)
    )
    with Receiver(token=TOKEN_1) as rx:
        rx.state.bodies = []

        def run_until(total: int) -> None:
            agent = start_agent(tmp_path, rx.url, minecraft)
            try:
                wait_for(lambda: rx.state.accepted_total >= total, f"{total} entries")
            finally:
                code = stop(agent)
            assert code == 0

        with (minecraft / "latest.log").open("ab") as log:
            log.write(uuid_line.encode())
        run_until(101)
        with (minecraft / "latest.log").open("ab") as log:
            log.write(after_restart)
        run_until(111)
        accepted, bodies = dict(rx.state.accepted), list(rx.state.bodies)
    assert len(accepted) == 111 and max(accepted.values()) == 1
    after = [body["meta"] for body in bodies if body["message"].startswith("<Alex> after")]
    assert len(after) == 10
    assert all(meta.get("uuid") == uuid for meta in after)
