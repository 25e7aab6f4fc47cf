"""The real daemon following a glob of servers: servers found and released while it runs,
per-server metrics, and fairness under one spamming server (a real receiver on 127.0.0.1).
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

from agent_process import agent_command, agent_env, stop, wait_for
from receiver import Receiver
from test_daemon_e2e import TOKEN_1, chat_lines

FAIR_DELAY_SECONDS = 10.0  # "a few seconds" on a loaded 2-core machine; unfair: > 25 s


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_server(where: Path, data: bytes) -> Path:
    (where / "logs").mkdir(parents=True)
    (where / "logs" / "latest.log").write_bytes(data)
    return where


def start_agent(tmp_path: Path, url: str, extra: str = "") -> subprocess.Popen[bytes]:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN_1 + "\n")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[api]\nurl = "{url}"\ntoken_file = "{token_file}"\nconcurrency = 2\n'
        f'[state]\ndir = "{tmp_path / "state"}"\n'
        f'[[servers]]\nid = "mc-{{1}}"\nlog = "{tmp_path / "volumes"}/*/logs/latest.log"\n'
        'read_from = "beginning"\ntimezone = "UTC"\n'
        "[reader]\nmultiline_idle_seconds = 0.2\n" + extra
    )
    return subprocess.Popen(
        agent_command(config),
        stderr=(tmp_path / "agent.log").open("wb"),
        stdout=subprocess.DEVNULL,
        env=agent_env(),
    )


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        return answer.read().decode()


def test_servers_found_and_released_while_running_with_their_metrics(tmp_path: Path) -> None:
    """A server that appears is shipped from its first line; one whose folder goes is
    released (its metric series go with it) and, back, resumes: every line once."""
    volumes = tmp_path / "volumes"
    make_server(volumes / "a", chat_lines(0, 20))
    port = free_port()
    with Receiver(token=TOKEN_1) as rx:
        agent = start_agent(tmp_path, rx.url, f"[metrics]\nenabled = true\nport = {port}\n")
        try:
            wait_for(lambda: rx.state.by_server["mc-a"] == 20, "server a")
            make_server(tmp_path / "staging" / "b", chat_lines(100, 30)).rename(volumes / "b")
            wait_for(lambda: rx.state.by_server["mc-b"] == 30, "server b, found while running")
            wait_for(lambda: 'server_lag_bytes{server_id="mc-b"}' in scrape(port), "b's lag series")
            text = scrape(port)
            for series in (
                'serverops_agent_lines_read_total{server_id="mc-b"} 30.0',
                'serverops_agent_server_entries_spooled_total{server_id="mc-b"} 30.0',
                'serverops_agent_server_entries_spooled_total{server_id="mc-a"} 20.0',
                "serverops_agent_servers_followed 2.0",
            ):
                assert series in text, series
            (volumes / "b").rename(tmp_path / "b-away")
            wait_for(lambda: 'server_id="mc-b"' not in scrape(port), "b's series dropped")
            assert 'server_id="mc-a"' in scrape(port)
            with (tmp_path / "b-away" / "logs" / "latest.log").open("ab") as log:
                log.write(chat_lines(130, 10))
            (tmp_path / "b-away").rename(volumes / "b")
            wait_for(lambda: rx.state.by_server["mc-b"] == 40, "b resumed")
            assert stop(agent) == 0
        finally:
            if agent.poll() is None:
                agent.kill()
        accepted = dict(rx.state.accepted)
    log_text = (tmp_path / "agent.log").read_text()
    assert len(accepted) == 60 and max(accepted.values()) == 1, log_text
    assert "server.found: mc-b" in log_text and "server.released: mc-b" in log_text


class Spammer:
    """Writes chat lines to one log at ``rate`` lines/s, each written and flushed alone."""

    def __init__(self, log: Path, rate: int = 5000) -> None:
        self._log = log
        self._rate = rate
        self.stopped = threading.Event()
        self.lines = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Spammer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self._thread.join(10)

    def _run(self) -> None:
        start = time.monotonic()
        with self._log.open("ab", buffering=0) as log:
            while not self.stopped.is_set():
                due = int((time.monotonic() - start) * self._rate)
                while self.lines < due:
                    log.write(b"[12:00:00] [Server thread/INFO]: spam %d\n" % self.lines)
                    self.lines += 1
                time.sleep(0.005)  # the pace of the writer, not a wait for the agent


def test_a_spamming_server_does_not_delay_a_quiet_one(tmp_path: Path) -> None:
    """One server writes 5,000 lines/s into a 1 MiB spool against a receiver that takes
    about 100 entries/s; a quiet server's one line still arrives within a few seconds,
    while the spam goes on (its share of the spool is full, its backlog waits its turn)."""
    volumes = tmp_path / "volumes"
    make_server(volumes / "spam", b"")
    quiet = make_server(volumes / "quiet", b"")
    with Receiver(token=TOKEN_1) as rx:
        rx.faults.latency = 0.02  # 2 connections: ~100 entries/s, far below the spam
        rx.state.messages = []
        agent = start_agent(tmp_path, rx.url, "[spool]\nmax_bytes = 1048576\n")
        try:
            with Spammer(volumes / "spam" / "logs" / "latest.log") as spam:
                wait_for(lambda: rx.state.by_server["mc-spam"] >= 200, "spam flowing")
                wait_for(lambda: spam.lines >= 20_000, "a spam backlog")
                written = time.time()
                with (quiet / "logs" / "latest.log").open("ab") as log:
                    log.write(b"[12:00:01] [Server thread/INFO]: quiet hello\n")
                wait_for(lambda: rx.state.by_server["mc-quiet"] == 1, "the quiet line")
                assert not spam.stopped.is_set()
                backlog = spam.lines - rx.state.by_server["mc-spam"]
            arrived = next(t for s, m, t in rx.state.messages if s == "mc-quiet")
            assert stop(agent) == 0
        finally:
            if agent.poll() is None:
                agent.kill()
    delay = arrived - written
    assert delay < FAIR_DELAY_SECONDS, f"quiet line took {delay:.1f} s"
    assert backlog > 5_000, "the spam was not ahead of the quiet line: nothing was tested"
