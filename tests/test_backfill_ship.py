"""``serverops-agent backfill`` shipping to the real receiver (tests/receiver.py) through the
real spool: exactly once by event_id, resumable, sharing checkpoints with the daemon."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from receiver import Faults, Receiver
from test_backfill import SERVER, make_log_set, run_cli, write_log

from agent.backfill.reading import ReadSettings, read_file
from agent.encode.body import event_id
from agent.model import Checkpoint, Entry
from agent.parse.fingerprint import fingerprint
from agent.parse.reader import ReaderOptions
from agent.state.spool import Spool, SpoolOptions

TOKEN = "so_test_backfill0000"
# A child process that holds the state dir's lock until its stdin closes.
HOLD_LOCK = (
    "import sys; from pathlib import Path; from agent.state import lock;"
    " held = lock.acquire(Path(sys.argv[1])); print('locked', flush=True); sys.stdin.read()"
)
REPO = Path(__file__).resolve().parents[1]


def write_config(tmp_path: Path, url: str, *, concurrency: int = 8) -> Path:
    """A config for the receiver at ``url``: token file, state dir, one server in UTC."""
    token = tmp_path / "token"
    token.write_text(TOKEN)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[api]\nurl = "{url}"\ntoken_file = "{token}"\nconcurrency = {concurrency}\n'
        f'[state]\ndir = "{tmp_path / "state"}"\n'
        f'[[servers]]\nid = "{SERVER}"\nlog = "{tmp_path / "logs" / "latest.log"}"\n'
        'timezone = "UTC"\n'
    )
    return config


def open_spool(tmp_path: Path) -> Spool:
    """The backfill's (and the daemon's) spool in the state dir."""
    return Spool(SpoolOptions(tmp_path / "state" / "spool.sqlite3"))


def event_ids(path: Path, start: int = 0) -> list[str]:
    """The event ids of a file's entries from ``start`` on (read independently)."""
    found: list[str] = []
    settings = ReadSettings(SERVER, ReaderOptions())

    def on_entries(entries: list[Entry], _offset: int) -> None:
        found.extend(event_id(SERVER, e.fingerprint, e.offset) for e in entries)

    read_file(path, settings, start_offset=lambda _f, _h: start, on_entries=on_entries)
    return found


def head_fingerprint(path: Path) -> str:
    """The file's identity, as the tailer computes it (decompressed head)."""
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return fingerprint(data[:4096])


def stream_bytes(path: Path) -> bytes:
    """The file's (decompressed) bytes."""
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


def test_ships_every_entry_once_and_a_rerun_skips_everything(tmp_path: Path) -> None:
    """All entries arrive once; a second run sends nothing and says the files were shipped."""
    written = make_log_set(tmp_path / "logs", count=150)
    logs = tmp_path / "logs"
    expected = [i for name, _ in written for i in event_ids(logs / name)]
    with Receiver(token=TOKEN) as rx:
        config = write_config(tmp_path, rx.url)
        code, _, stderr = run_cli(str(logs), "--config", str(config))
        assert code == 0, stderr
        assert set(rx.state.accepted) == set(expected) and len(expected) == 900
        assert max(rx.state.accepted.values()) == 1
        code, out, _ = run_cli(str(logs), "--config", str(config))
    # latest.log now holds the resume point the daemon will start from: it is the daemon's.
    assert code == 0 and "5 skipped as already shipped, 1 left to the daemon" in out
    assert rx.state.accepted_total == 900
    spool = open_spool(tmp_path)
    latest = spool.checkpoint(SERVER)
    assert latest is not None and latest.fingerprint == head_fingerprint(logs / "latest.log")
    assert latest.offset == len(stream_bytes(logs / "latest.log"))  # the daemon resumes there
    assert spool.stats().depth == 0


def test_skips_what_the_daemon_shipped_and_leaves_it_its_files(tmp_path: Path) -> None:
    """A file the daemon finished is skipped, a partly shipped file resumes at its offset, and
    the daemon's resume point (and every file from it on) is left to the daemon, unchanged."""
    written = make_log_set(tmp_path / "logs", count=150)
    logs = tmp_path / "logs"
    names = [name for name, _ in written]
    done, partial, live = logs / names[0], logs / names[2], logs / "latest.log"
    cut = stream_bytes(partial).index(b"\n", 3000) + 1  # a line end inside the file
    live_cut = stream_bytes(live).index(b"\n", 2000) + 1
    spool = open_spool(tmp_path)
    spool.append((), Checkpoint(SERVER, head_fingerprint(done), len(stream_bytes(done))))
    spool.append((), Checkpoint(SERVER, head_fingerprint(partial), cut), as_latest=False)
    daemon = Checkpoint(SERVER, head_fingerprint(live), live_cut)
    spool.append((), daemon)  # the daemon's resume point: the most recent checkpoint
    spool.close()
    expected = event_ids(logs / names[1]) + event_ids(partial, cut)
    expected += event_ids(logs / names[3]) + event_ids(logs / names[4])
    with Receiver(token=TOKEN) as rx:
        code, out, stderr = run_cli(str(logs), "--config", str(write_config(tmp_path, rx.url)))
    assert code == 0, stderr
    assert set(rx.state.accepted) == set(expected)
    assert max(rx.state.accepted.values()) == 1
    assert "1 skipped as already shipped, 1 left to the daemon, 0 failed" in out
    spool = open_spool(tmp_path)
    assert spool.checkpoint(SERVER) == daemon  # the daemon still resumes where it was
    assert spool.checkpoint_for(SERVER, head_fingerprint(partial)) == Checkpoint(
        SERVER, head_fingerprint(partial), len(stream_bytes(partial))
    )


def test_truncated_gz_ships_its_readable_part_and_is_reported(tmp_path: Path) -> None:
    """A .gz cut short ships what is before the cut, is counted and named as cut short
    (exit 0: nothing readable was left behind); every other file is shipped in full, and
    a rerun sends nothing twice."""
    written = make_log_set(tmp_path / "logs", count=150)
    logs = tmp_path / "logs"
    broken = logs / written[1][0]
    data = broken.read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    expected = [i for name, _ in written for i in event_ids(logs / name)]
    readable = event_ids(broken)
    assert 0 < len(readable) < 150
    with Receiver(token=TOKEN) as rx:
        config = write_config(tmp_path, rx.url)
        code, out, _ = run_cli(str(logs), "--config", str(config))
        assert code == 0, out
        assert "0 failed, 0 empty, 1 cut short)" in out
        assert f"CUT SHORT {broken}: a gzip file that ends mid-stream" in out
        assert set(readable) <= set(rx.state.accepted)
        assert set(expected) == set(rx.state.accepted)
        code, out, _ = run_cli(str(logs), "--config", str(config))
    assert code == 0 and "1 cut short" in out
    assert max(rx.state.accepted.values()) == 1


def test_empty_gz_is_reported_as_empty(tmp_path: Path) -> None:
    """An empty .gz is counted as empty, not as already shipped."""
    logs = tmp_path / "logs"
    logs.mkdir()
    write_log(logs / "2026-11-01-1.log.gz", [])
    (logs / "2026-11-01-2.log.gz").write_bytes(b"")
    write_log(logs / "2026-11-02-1.log.gz", ["[10:00:00] [Server thread/INFO]: <Steve> hi\n"])
    with Receiver(token=TOKEN) as rx:
        code, out, _ = run_cli(str(logs), "--config", str(write_config(tmp_path, rx.url)))
    assert code == 0, out
    assert "(0 skipped as already shipped, 0 left to the daemon, 0 failed, 2 empty" in out
    assert rx.state.accepted_total == 1


def test_dead_lettered_entry_gives_exit_1(tmp_path: Path) -> None:
    """An entry the API refuses for good is dead-lettered, counted, and the exit code is 1."""
    (tmp_path / "logs").mkdir()
    write_log(tmp_path / "logs" / "2026-11-01-1.log.gz", [])  # empty: nothing, no identity
    lines = [f"[10:00:0{i}] [Server thread/INFO]: <Steve> hi {i}\n" for i in range(5)]
    path = write_log(tmp_path / "logs" / "2026-11-02-1.log.gz", lines)
    poisoned = event_ids(path)[2]
    with Receiver(token=TOKEN, faults=Faults(poisoned={poisoned})) as rx:
        config = write_config(tmp_path, rx.url)
        code, out, _ = run_cli(str(tmp_path / "logs"), "--config", str(config))
    assert code == 1
    assert "dead-letter:  1" in out and "sent:         4" in out
    assert len(rx.state.accepted) == 4 and poisoned not in rx.state.accepted
    kept = (tmp_path / "state" / "dead-letter.ndjson").read_text().splitlines()
    assert len(kept) == 1 and poisoned in kept[0]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_stops_cleanly_and_a_rerun_sends_the_rest_once(tmp_path: Path) -> None:
    """SIGINT mid-run: exit 130, nothing lost; the next run sends the rest, none twice."""
    written = make_log_set(tmp_path / "logs", count=400)
    logs = tmp_path / "logs"
    expected = {i for name, _ in written for i in event_ids(logs / name)}
    with Receiver(token=TOKEN, faults=Faults(latency=0.01)) as rx:
        config = write_config(tmp_path, rx.url, concurrency=1)
        command = [sys.executable, "-m", "agent", "backfill", str(logs), "--config", str(config)]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        child = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO
        )
        deadline = time.monotonic() + 30
        while rx.state.accepted_total < 30 and time.monotonic() < deadline:
            time.sleep(0.02)  # bounded poll on the receiver's counter
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
        assert child.returncode == 130, err.decode()
        assert b"interrupted" in out
        first = set(rx.state.accepted)
        assert 30 <= len(first) < len(expected)
        rx.faults.latency = 0.0
        code, _, stderr = run_cli(str(logs), "--config", str(config))
    assert code == 0, stderr
    assert set(rx.state.accepted) == expected
    assert max(rx.state.accepted.values()) == 1


def test_checkpoints_saved_behind_keep_the_latest_and_are_listed(tmp_path: Path) -> None:
    """append(as_latest=False) stores a checkpoint without making it the daemon's resume
    point, updates an existing one in place, and checkpoints() lists them all."""
    spool = Spool(SpoolOptions(tmp_path / "spool.sqlite3"))
    daemon = Checkpoint(SERVER, "live", 10)
    spool.append((), daemon)
    spool.append((), Checkpoint(SERVER, "old", 5), as_latest=False)
    spool.append((), Checkpoint(SERVER, "live", 20), as_latest=False)
    assert spool.checkpoint(SERVER) == Checkpoint(SERVER, "live", 20)
    spool.append((), Checkpoint(SERVER, "old", 7), as_latest=False)
    assert spool.checkpoint(SERVER) == Checkpoint(SERVER, "live", 20)
    assert sorted(spool.checkpoints(SERVER), key=lambda c: c.fingerprint) == [
        Checkpoint(SERVER, "live", 20),
        Checkpoint(SERVER, "old", 7),
    ]
    assert spool.checkpoints("other") == []


def test_refuses_to_ship_while_the_daemon_runs(tmp_path: Path) -> None:
    """Another live process holding the state dir's lock (as the daemon does): exit 2
    naming its pid, nothing spooled or sent; once it has exited, backfill ships."""
    make_log_set(tmp_path / "logs", count=10)
    open_spool(tmp_path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(tmp_path / "state")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        with Receiver(token=TOKEN) as rx:
            config = write_config(tmp_path, rx.url)
            code, _, stderr = run_cli(str(tmp_path / "logs"), "--config", str(config))
            assert code == 2 and f"(pid {holder.pid})" in stderr, stderr
            assert rx.state.accepted_total == 0 and open_spool(tmp_path).checkpoints(SERVER) == []
            holder.communicate("", timeout=30)  # the holder exits: the kernel drops its lock
            code, _, stderr = run_cli(str(tmp_path / "logs"), "--config", str(config))
    finally:
        holder.kill()
        holder.wait()
    assert code == 0, stderr
    assert rx.state.accepted_total == 60
