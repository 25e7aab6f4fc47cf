"""Issue 10 with the real daemon in a child process against the real receiver: a request
that raises an unexpected exception, a slow API, a wrong base path (404), an outage.

Each writes a real Minecraft log that the daemon tails, and reads the daemon's own log.
Waits are bounded polls (the daemon is another process: there is no event to wait on).
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

from agent_process import agent_command, agent_env, run_agent, wait_for
from receiver import Faults, Receiver

TOKEN = "so_test_fieldtoken0000"


def _no_debug(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if " debug " not in line)


def chat(first: int, count: int) -> bytes:
    return b"".join(
        b"[12:00:%02d] [Async Chat Thread - #0/INFO]: <Alex> line %d\n" % (n % 60, n)
        for n in range(first, first + count)
    )


class Agent:
    """The daemon tailing ``logs/latest.log`` under tmp_path, logging to agent.log."""

    def __init__(self, tmp_path: Path, url: str, api: str = "", env: dict[str, str] | None = None):
        self.tmp_path = tmp_path
        self.log = tmp_path / "logs" / "latest.log"
        self.log.parent.mkdir()
        self.log.write_bytes(b"")
        self.token_file = tmp_path / "token"
        self.token_file.write_text(TOKEN + "\n")
        config = tmp_path / "config.toml"
        config.write_text(
            f'[api]\nurl = "{url}"\ntoken_file = "{self.token_file}"\n{api}'
            f'[state]\ndir = "{tmp_path / "state"}"\n'
            f'[[servers]]\nid = "survival"\nlog = "{self.log}"\n'
            'read_from = "beginning"\ntimezone = "UTC"\n'
            '[reader]\nmultiline_idle_seconds = 0.2\n[logging]\nlevel = "debug"\n'
        )
        self.process = subprocess.Popen(
            agent_command(config),
            stderr=(tmp_path / "agent.log").open("wb"),
            stdout=subprocess.DEVNULL,
            env=agent_env(**(env or {})),
        )
        self.written = 0

    def write(self, count: int) -> None:
        with self.log.open("ab") as out:
            out.write(chat(self.written, count))
        self.written += count

    def text(self) -> str:
        return (self.tmp_path / "agent.log").read_text(errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()


def test_a_token_file_with_a_second_line_is_refused_at_start(tmp_path: Path) -> None:
    """The field case of issue 10: ``so_live_...`` then ``# prod token`` in the token file
    made aiohttp raise ValueError in every request, and the upload task died silently.
    Now the token rule refuses it when it is loaded: exit 2, one line naming the file,
    never the token, no traceback. (Containment of an unexpected exception inside a
    running uploader is tested with a faulty transport in tests/test_ship_hardening.py.)"""
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n# prod token\n")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[api]\nurl = "http://127.0.0.1:9"\ntoken_file = "{token_file}"\n'
        f'[state]\ndir = "{tmp_path / "state"}"\n'
        f'[[servers]]\nid = "survival"\nlog = "{tmp_path / "latest.log"}"\n'
    )
    result = run_agent(config)
    assert result.returncode == 2, result.stderr
    assert str(token_file) in result.stderr
    assert TOKEN not in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "state" / "spool.sqlite3").exists()  # refused before the spool


def test_slow_api_converges_without_new_duplicates(tmp_path: Path) -> None:
    """An API that stores, then answers after 2.5 s, with timeout_seconds = 1: duplicates
    happen at first, none after the first half minute; one warning names the key."""
    with Receiver(token=TOKEN, faults=Faults(latency=2.5)) as rx:
        agent = Agent(tmp_path, rx.url, api="timeout_seconds = 1\n")
        try:
            wait_for(lambda: "agent.started" in agent.text(), "the agent to start", 30)
            start = time.monotonic()
            agent.write(16)
            while time.monotonic() - start < 40.0:  # new lines all along: 16 + 19
                time.sleep(2.0)
                agent.write(1)
            wait_for(lambda: len(rx.state.accepted) == agent.written, "every entry", 30)
        finally:
            agent.stop()
        late = [t - start for t in rx.state.duplicate_times if t - start > 30.0]
        duplicates = len(rx.state.duplicate_times)
    text = agent.text()
    assert late == [], f"{len(late)} duplicates after 30 s ({duplicates} in all)\n{text}"
    warnings = [line for line in text.splitlines() if "ship.slow_api" in line]
    assert len(warnings) == 1 and "api.timeout_seconds" in warnings[0]
    assert "duplicates may result" in warnings[0]


def test_404_pauses_until_sighup(tmp_path: Path) -> None:
    """POST {url}/logs answering 404 pauses sending with the URL named; nothing is lost;
    SIGHUP after the server is fixed delivers everything."""
    with Receiver(token=TOKEN, faults=Faults(not_found=True)) as rx:
        agent = Agent(tmp_path, rx.url)
        agent.write(30)
        try:
            wait_for(lambda: "ship.misconfigured" in agent.text(), "the config error")
            refused = rx.state.statuses[404]
            time.sleep(2.0)
            assert rx.state.statuses[404] == refused  # paused, not retrying
            rx.faults.not_found = False
            agent.process.send_signal(signal.SIGHUP)
            wait_for(lambda: len(rx.state.accepted) == 30, "every entry after SIGHUP")
        finally:
            code = agent.stop()
    text = agent.text()
    line = next(x for x in text.splitlines() if "ship.misconfigured" in x)
    assert f"{rx.url}/logs" in line and "api.url" in line and "SIGHUP" in line
    assert code == 0
    # logging.level = "debug": batches, and requests with status and latency; no token
    assert re.search(r"debug ship.batch: \d+ record\(s\) from the spool, ids 1-", text)
    assert "ship.request: POST event_id=" in text and " -> 404 in " in text
    assert " -> 201 in " in text and TOKEN not in text


def test_everything_arrives_within_10_s_of_the_end_of_an_outage(tmp_path: Path) -> None:
    """A 30 s outage (connections dropped): by then the retries' backoff caps are 32-60 s,
    so without the wake-up many would still sleep for more than 10 s after the API is back.
    Every entry, old and new, must have arrived within 10 s; ship.recovered says so."""
    with Receiver(token=TOKEN) as rx:
        agent = Agent(tmp_path, rx.url)
        try:
            agent.write(10)
            wait_for(lambda: len(rx.state.accepted) == 10, "the first entries")
            rx.faults.drop_rate = 1.0
            down = time.monotonic()
            while time.monotonic() - down < 30.0:  # a line every half second
                agent.write(1)
                time.sleep(0.5)
            rx.faults.drop_rate = 0.0
            back = time.monotonic()
            try:
                wait_for(lambda: len(rx.state.accepted) == agent.written, "the backlog", 10.0)
            except AssertionError as exc:
                missing = agent.written - len(rx.state.accepted)
                raise AssertionError(
                    f"{exc}: {missing} missing\n{_no_debug(agent.text())}"
                ) from None
            drained = time.monotonic() - back
        finally:
            agent.stop()
    text = agent.text()
    assert drained < 10.0
    recovered = [line for line in text.splitlines() if "ship.recovered" in line]
    assert len(recovered) == 1 and "entries waiting" in recovered[0], text
