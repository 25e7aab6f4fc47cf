"""kill -9 the real daemon again and again while it ships a 20,000-line log.

Nothing may be lost; duplicates are bounded by the requests in flight at each kill
(concurrency), and each duplicate carries the same event_id (Idempotency-Key).
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from agent_process import agent_command, agent_env
from receiver import Faults, Receiver

TOKEN = "so_test_crashtoken0000"
# 20,000 lines: each of the six kills still lands mid-stream with ~10 batches sent since
# the last one and requests in flight (50,000 proved no more and took 55 s of the suite).
LINES = 20_000
KILLS = 6
CONCURRENCY = 8


def start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        agent_command(config),
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
        env=agent_env(),
    )


def test_sigkill_loses_nothing(tmp_path: Path) -> None:
    """Six SIGKILLs during a 20,000-line run: every line accepted, few duplicates."""
    logs = tmp_path / "mc" / "logs"
    logs.mkdir(parents=True)
    lines = b"".join(
        b"[12:%02d:%02d] [Server thread/INFO]: <Steve> line %d\n" % (n // 60 % 60, n % 60, n)
        for n in range(LINES)
    )
    (logs / "latest.log").write_bytes(lines)
    (tmp_path / "token").write_text(TOKEN)
    config = tmp_path / "config.toml"
    agent_log = tmp_path / "agent.log"
    with Receiver(token=TOKEN, faults=Faults(latency=0.001)) as rx:
        config.write_text(
            f'[api]\nurl = "{rx.url}"\ntoken_file = "{tmp_path / "token"}"\n'
            f"concurrency = {CONCURRENCY}\n"
            f'[state]\ndir = "{tmp_path / "state"}"\n'
            f'[[servers]]\nid = "s"\nlog = "{logs / "latest.log"}"\n'
            'read_from = "beginning"\ntimezone = "UTC"\n'
            "[reader]\nmultiline_idle_seconds = 0.1\n"
        )
        deadline = time.monotonic() + 240
        kills = 0
        while len(rx.state.accepted) < LINES and time.monotonic() < deadline:
            agent = start(config, agent_log)
            if kills < KILLS:
                target = (kills + 1) * LINES // (KILLS + 2)
                while rx.state.accepted_total < target and agent.poll() is None:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.01)
                agent.send_signal(signal.SIGKILL)
                agent.wait(30)
                kills += 1
                continue
            while len(rx.state.accepted) < LINES and agent.poll() is None:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            agent.send_signal(signal.SIGTERM)
            assert agent.wait(30) == 0
        accepted = dict(rx.state.accepted)
    assert kills == KILLS
    assert len(accepted) == LINES, agent_log.read_text()[-3000:]
    duplicates = sum(count - 1 for count in accepted.values())
    assert duplicates <= KILLS * CONCURRENCY, duplicates
