"""The date of a file read after the fact (issue 11): counted back from its mtime.

A ``latest.log`` whose lines carry only a time is dated from its mtime, the time its last
line was written, counting back across midnights, in ``parse``, ``backfill --dry-run``
and the daemon's catch-up (the follower opening a checkpointed file with unread bytes).
Only lines read live use the clock. Real files, with their mtime set by os.utime.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from agent_process import agent_command, agent_env, wait_for
from hypothesis import given
from hypothesis import strategies as st
from test_tail_follower import Agent
from typer.testing import CliRunner

from agent.cli.main import app
from agent.parse.dates import DayCounter, start_date_from_end
from agent.sources.tail.source import ReadFrom
from agent.state.spool import Spool, SpoolOptions

# A BungeeCord-style file crossing midnight twice (written over three days).
SPANNING = [
    "[22:00:00] [Server thread/INFO]: <Steve> a",
    "[23:59:59] [Server thread/INFO]: <Steve> b",
    "[00:00:03] [Server thread/INFO]: <Steve> c",  # day + 1
    "java.lang.Exception: not a timed line",
    "[23:30:00] [Server thread/INFO]: <Steve> d",
    "[01:15:00] [Server thread/INFO]: <Steve> e",  # day + 2
]
# The mtime: when the last line (01:15:00) was written, three weeks ago.
END = datetime(2026, 11, 6, 1, 15, 0, tzinfo=UTC)
DATED = [
    "2026-11-04T22:00:00Z",
    "2026-11-04T23:59:59Z",
    "2026-11-05T00:00:03Z",
    "2026-11-05T23:30:00Z",
    "2026-11-06T01:15:00Z",
]


def write(path: Path, lines: list[str], mtime: datetime) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines))
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def settle(agent: Agent) -> None:
    """Step the follower until idle and let the idle flush fire (as Agent.drain does)."""
    assert agent.follower is not None
    for _ in range(2):
        for _ in range(10_000):
            if not agent.follower.step():
                break
        agent.now += 1.0


def stamps(stdout: bytes) -> list[str]:
    bodies = [orjson.loads(line) for line in stdout.splitlines() if line.startswith(b"{")]
    return [body["meta"]["timestamp"] for body in bodies]


class TestDayCounter:
    def test_counts_midnights_with_the_trackers_rule(self) -> None:
        """Steps back of more than 2 h are midnights; smaller ones (DST, NTP) are not."""
        counter = DayCounter()
        counter.feed(b"[23:00:00] a\n[22:30:00] b\n[00:10:00] c\nnot timed\n[00:05:00] d\n")
        counter.finish()
        assert (counter.midnights, counter.last) == (1, 300)

    @given(st.integers(min_value=1, max_value=40))
    def test_any_chunking_counts_the_same(self, size: int) -> None:
        """Lines split across chunks anywhere are counted once."""
        data = "".join(line + "\n" for line in SPANNING).encode()
        counter = DayCounter()
        for start in range(0, len(data), size):
            counter.feed(data[start : start + size])
        counter.finish()
        assert (counter.midnights, counter.last) == (2, 4500)

    def test_other_prefixes_and_dated_lines(self) -> None:
        """Console ([t LEVEL]) and BungeeCord (t [LEVEL]) count; full dates do not."""
        counter = DayCounter()
        counter.feed(b"[23:00:00 INFO]: a\n01:00:00 [INFO] b\n2013-04-19 10:32:55 [INFO] c\n")
        counter.finish()
        assert (counter.midnights, counter.last) == (1, 3600)

    def test_gives_up_on_a_file_with_full_dates(self) -> None:
        """No time-only line in the first 64 KiB: the lines carry their own dates."""
        counter = DayCounter()
        counter.feed(b"2013-04-19 10:32:55 [INFO] x\n" * 3000)
        assert counter.gave_up

    @pytest.mark.parametrize(
        ("last", "end", "midnights", "expected"),
        [
            (3600, datetime(2026, 11, 6, 1, 0, 5), 0, date(2026, 11, 6)),
            (3600, datetime(2026, 11, 6, 1, 0, 5), 2, date(2026, 11, 4)),
            # mtime just after midnight, last line just before: written the day before
            (86399, datetime(2026, 11, 6, 0, 0, 2), 0, date(2026, 11, 5)),
        ],
    )
    def test_start_date_from_end(
        self, last: int, end: datetime, midnights: int, expected: date
    ) -> None:
        """The first line's date: the mtime's date, less one day per midnight crossed."""
        counter = DayCounter()
        counter.last, counter.midnights = last, midnights
        assert start_date_from_end(counter, end) == expected


def test_parse_dates_latest_log_from_its_mtime(tmp_path: Path) -> None:
    """`parse` of a latest.log stopped three weeks ago: dated from the mtime, back across
    two midnights; not today."""
    log = write(tmp_path / "latest.log", SPANNING, END)
    result = CliRunner().invoke(app, ["parse", str(log), "--timezone", "UTC"])
    assert result.exit_code == 0, result.stderr
    assert stamps(result.stdout_bytes) == DATED


def test_parse_date_option_still_wins(tmp_path: Path) -> None:
    """--date is the date of the first line, whatever the mtime."""
    log = write(tmp_path / "latest.log", SPANNING[:2], END)
    args = ["parse", str(log), "--timezone", "UTC", "--date", "2026-01-01"]
    result = CliRunner().invoke(app, args)
    assert stamps(result.stdout_bytes) == ["2026-01-01T22:00:00Z", "2026-01-01T23:59:59Z"]


def test_backfill_dry_run_dates_latest_log_from_its_mtime(tmp_path: Path) -> None:
    """`backfill --dry-run` over a stopped server's logs/: latest.log from its mtime, the
    rolled file from its name."""
    logs = tmp_path / "logs"
    write(logs / "2026-11-04-1.log", ["[08:00:00] [Server thread/INFO]: <Steve> x"], END)
    write(logs / "latest.log", SPANNING, END)
    args = ["backfill", str(logs), "--dry-run", "--timezone", "UTC", "--jobs", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert stamps(result.stdout_bytes) == ["2026-11-04T08:00:00Z", *DATED]


def test_daemon_catch_up_dates_from_mtime_then_live_lines_by_clock(tmp_path: Path) -> None:
    """The follower restarts on a checkpointed latest.log written to while it was down
    (mtime three weeks ago, crossing midnight): those lines are dated from the mtime;
    a line appended after it was opened is dated by the clock (today)."""
    log = write(tmp_path / "logs" / "latest.log", SPANNING[:1], END)
    agent = Agent(log, ReadFrom.BEGINNING).start()
    settle(agent)
    agent.follower.close()  # type: ignore[union-attr]
    with log.open("a") as file:
        file.write("".join(line + "\n" for line in SPANNING[1:]))
    os.utime(log, (END.timestamp(), END.timestamp()))
    agent.start()
    settle(agent)
    caught_up = [e.timestamp for e in agent.sink.entries[1:]]
    assert [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in caught_up] == DATED[1:]  # type: ignore[union-attr]
    now = datetime.now(UTC) - timedelta(seconds=5)
    with log.open("a") as file:
        file.write(f"[{now:%H:%M:%S}] [Server thread/INFO]: <Steve> live\n")
    settle(agent)
    live = agent.sink.entries[-1]
    assert live.message == "<Steve> live"
    assert live.timestamp is not None and live.timestamp.date() == now.date()


def _spooled_bodies(state: Path) -> list[dict]:
    spool = Spool(SpoolOptions(state / "spool.sqlite3"))
    try:
        return [orjson.loads(record.body) for record in spool.take(1000)]
    finally:
        spool.close()


def _closed_port() -> int:
    """A loopback port nothing listens on: the API is down, entries stay in the spool."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_real_daemon_catching_up_after_days_down(tmp_path: Path) -> None:
    """The real `run` process: stopped with a checkpoint in latest.log; lines written
    while it was down (three weeks ago, across two midnights) are dated from the mtime
    when it starts again; a line written while it runs is dated today by the clock."""
    log = write(tmp_path / "logs" / "latest.log", SPANNING[:1], END)
    state = tmp_path / "state"
    (tmp_path / "token").write_text("so_test_catchup000000\n")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[api]\nurl = "http://127.0.0.1:{_closed_port()}"\ntoken_file = "{tmp_path / "token"}"\n'
        f'[state]\ndir = "{state}"\n[[servers]]\nid = "s"\nlog = "{log}"\n'
        'read_from = "beginning"\ntimezone = "UTC"\n[reader]\nmultiline_idle_seconds = 0.2\n'
    )

    def run_until(count: int, then: Callable[[], None] | None = None) -> None:
        stderr = (tmp_path / "agent.log").open("ab")
        agent = subprocess.Popen(agent_command(config), stderr=stderr, env=agent_env())
        try:
            wait_for(lambda: len(_spooled_bodies(state)) >= count, f"{count} spooled")
            if then is not None:
                then()
            agent.send_signal(signal.SIGTERM)
            agent.wait(timeout=30)
        finally:
            if agent.poll() is None:
                agent.kill()
            stderr.close()

    run_until(1)  # the checkpoint is now after the first line
    with log.open("a") as file:
        file.write("".join(line + "\n" for line in SPANNING[1:]))
    os.utime(log, (END.timestamp(), END.timestamp()))
    now = datetime.now(UTC) - timedelta(seconds=5)

    def write_live_line() -> None:
        with log.open("a") as file:
            file.write(f"[{now:%H:%M:%S}] [Server thread/INFO]: <Steve> live\n")
        wait_for(lambda: len(_spooled_bodies(state)) >= 6, "the live line spooled")

    run_until(5, write_live_line)
    bodies = _spooled_bodies(state)
    assert [b["meta"]["timestamp"] for b in bodies[1:5]] == DATED[1:]
    assert bodies[5]["message"] == "<Steve> live"
    assert bodies[5]["meta"]["timestamp"].startswith(f"{now:%Y-%m-%d}T")
