"""Issue 10 item 7: dead letters can be listed and sent again; a 413 keeps the daemon up.

The end-to-end test runs the real daemon against the receiver answering 413 for a large
entry: the daemon dead-letters it and keeps running (``status`` exit 1, "dead letters"),
SIGTERM still exits 0 (the README's exit codes say so); once the limit is lifted,
``deadletter replay --code 413`` puts it back in the spool with its own event_id and the
next run delivers it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import agent_process
import orjson
import pytest
from agent_process import agent_cli, agent_command, agent_env, stop, wait_for
from receiver import Faults, Receiver
from test_daemon_e2e import chat_lines

from agent.state import lock as state_lock
from agent.state.deadletter import (
    DEAD_LETTER_FILE,
    DeadLetterFile,
    read_dead_letters,
    replay,
)
from agent.state.spool import Spool, SpoolOptions

TOKEN = "so_test_deadletters00"
BIG = b"[12:01:00] [Async Chat Thread - #0/INFO]: <Alex> " + b"x" * 6000 + b"\n"


def write_config(tmp_path: Path, url: str) -> Path:
    lines = chat_lines(0, 10) + BIG + chat_lines(10, 10)
    return agent_process.write_config(tmp_path, url, TOKEN, lines=lines)


def run_until(config: Path, log: Path, condition: Any, what: str) -> int:
    agent = subprocess.Popen(
        agent_command(config), stderr=log.open("wb"), stdout=subprocess.DEVNULL, env=agent_env()
    )
    try:
        wait_for(condition, what)
        status = agent_cli("status", "--config", str(config))
    finally:
        code = stop(agent)
    assert code == 0, log.read_text()
    return status.returncode


def test_413_is_dead_lettered_the_daemon_stays_up_and_replay_delivers_it(
    tmp_path: Path,
) -> None:
    dead_file = tmp_path / "state" / DEAD_LETTER_FILE
    with Receiver(token=TOKEN, faults=Faults(max_body_bytes=4000)) as rx:
        config = write_config(tmp_path, rx.url)
        status_code = run_until(
            config,
            tmp_path / "first.log",
            lambda: rx.state.accepted_total >= 20 and dead_file.exists(),
            "20 entries and one dead letter",
        )
        assert status_code == 1  # degraded: a dead letter waits
        [dead] = read_dead_letters(dead_file)
        assert dead["status"] == 413 and dead["event_id"] not in rx.state.accepted

        listed = agent_cli("deadletter", "list", "--json", "--config", str(config))
        assert (
            listed.returncode == 0 and json.loads(listed.stdout)[0]["event_id"] == dead["event_id"]
        )
        text = agent_cli("deadletter", "list", "--config", str(config))
        assert f"{dead['event_id']}  survival  HTTP 413 payload_too_large" in text.stdout

        none = agent_cli("deadletter", "replay", "--code", "400", "--config", str(config))
        assert none.returncode == 0 and "replayed 0 entries" in none.stdout
        rx.state.faults.max_body_bytes = 0  # the cause is fixed
        replayed = agent_cli("deadletter", "replay", "--code", "413", "--config", str(config))
        assert replayed.returncode == 0, replayed.stderr
        assert "replayed 1 entry" in replayed.stdout
        assert read_dead_letters(dead_file) == []

        status_code = run_until(
            config,
            tmp_path / "second.log",
            lambda: dead["event_id"] in rx.state.accepted,
            "the replayed entry",
        )
        assert status_code == 0  # healthy: nothing waits in the dead-letter file
        accepted = dict(rx.state.accepted)
    assert len(accepted) == 21 and max(accepted.values()) == 1


def test_replay_refuses_while_the_daemon_holds_the_lock(tmp_path: Path) -> None:
    config = write_config(tmp_path, "https://api.example.com")
    state = tmp_path / "state"
    state.mkdir()
    DeadLetterFile(state / DEAD_LETTER_FILE).write(
        event_id="e1", server_id="survival", status=413, answer=b"{}", body=b'{"message":"m"}'
    )
    with state_lock.acquire(state):
        result = agent_cli("deadletter", "replay", "--config", str(config))
    assert result.returncode == 2 and "stop the daemon first" in result.stderr
    assert len(read_dead_letters(state / DEAD_LETTER_FILE)) == 1


class TestReplayUnit:
    @pytest.fixture
    def state(self, tmp_path: Path) -> Path:
        state = tmp_path / "state"
        dead = DeadLetterFile(state / DEAD_LETTER_FILE)
        for n, status in enumerate([413, 400, 413]):
            answer = orjson.dumps(
                {"error": {"code": "payload_too_large" if status == 413 else "bad_request"}}
            )
            body = orjson.dumps(
                {"level": "info", "message": f"m{n}", "meta": {"event_id": f"e{n}"}}
            )
            dead.write(
                event_id=f"e{n}", server_id="survival", status=status, answer=answer, body=body
            )
        return state

    def test_replay_by_code_keeps_the_rest_and_the_same_bytes(self, state: Path) -> None:
        spool = Spool(SpoolOptions(state / "spool.sqlite3"))
        try:
            result = replay(state / DEAD_LETTER_FILE, spool, lambda r: r["status"] == 413)
            taken = spool.take(10)
        finally:
            spool.close()
        assert result.replayed == ["e0", "e2"] and result.kept == 1
        assert [r.event_id for r in taken] == ["e0", "e2"]
        assert orjson.loads(taken[0].body) == {
            "level": "info",
            "message": "m0",
            "meta": {"event_id": "e0"},
        }
        assert [r["event_id"] for r in read_dead_letters(state / DEAD_LETTER_FILE)] == ["e1"]
        assert (state / DEAD_LETTER_FILE).stat().st_mode & 0o777 == 0o600

    def test_a_failed_spool_write_leaves_the_file_whole(self, state: Path) -> None:
        """The spool commits first: if it fails, nothing is removed from the file."""
        before = (state / DEAD_LETTER_FILE).read_bytes()

        class BrokenSpool:
            def append(self, *_: object) -> bool:
                raise OSError("disk full")

        with pytest.raises(OSError, match="disk full"):
            replay(state / DEAD_LETTER_FILE, BrokenSpool(), lambda _: True)  # type: ignore[arg-type]
        assert (state / DEAD_LETTER_FILE).read_bytes() == before

    def test_a_body_that_is_not_json_stays(self, state: Path) -> None:
        DeadLetterFile(state / DEAD_LETTER_FILE).write(
            event_id="e9", server_id="survival", status=400, answer=b"", body=b"\xffnot json"
        )
        spool = Spool(SpoolOptions(state / "spool.sqlite3"))
        try:
            result = replay(state / DEAD_LETTER_FILE, spool, lambda r: r["event_id"] == "e9")
        finally:
            spool.close()
        assert result.replayed == [] and result.unreplayable == 1 and result.kept == 4
