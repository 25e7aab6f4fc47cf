"""``serverops-agent backfill --dry-run`` and usage errors, on generated .log.gz sets.

Also holds the log-set helpers the shipping tests (test_backfill_ship.py) use.
"""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import orjson
import pytest
from agent_process import agent_cli
from typer.testing import CliRunner

from agent.cli.main import app

SERVER = "survival"


def log_lines(tag: str, start: int, count: int, step: int = 7) -> list[str]:
    """``count`` vanilla 1.7+ lines from ``start`` seconds after midnight (wrapping at 24 h).

    Messages are ``<Steve> {tag} {i}`` chat lines, every 5th a death, so order is checkable.
    """
    lines = []
    for index in range(count):
        second = (start + index * step) % 86400
        stamp = f"{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
        if index % 5 == 4:
            message = f"Steve was slain by Zombie {tag} {index}"
        else:
            message = f"<Steve> {tag} {index}"
        lines.append(f"[{stamp}] [Server thread/INFO]: {message}\n")
    return lines


def write_log(path: Path, lines: list[str]) -> Path:
    """Write ``lines`` to ``path`` (gzip when it ends in .gz)."""
    data = "".join(lines).encode()
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def make_log_set(logs: Path, count: int = 200) -> list[tuple[str, list[str]]]:
    """A server's logs/: gaps between days, several files a day, a midnight roll, latest.log.

    Returns (file name, lines) oldest first.
    """
    logs.mkdir(parents=True, exist_ok=True)
    plan = [
        ("2026-11-01-1.log.gz", 8 * 3600),
        ("2026-11-01-2.log.gz", 12 * 3600),
        ("2026-11-01-10.log.gz", 20 * 3600),
        ("2026-11-04-1.log.gz", 86400 - 300),  # runs past midnight: the date moves on
        ("2026-11-05-1.log.gz", 9 * 3600),
        ("latest.log", 10 * 3600),
    ]
    written = []
    for index, (name, start) in enumerate(plan):
        lines = log_lines(f"f{index}", start, count)
        write_log(logs / name, lines)
        written.append((name, lines))
    return written


def run_cli(*args: str) -> tuple[int, str, str]:
    """Run ``backfill``; return the exit code, stdout and stderr."""
    result = CliRunner().invoke(app, ["backfill", *args])
    return result.exit_code, result.stdout, result.stderr


def invoke(*args: str) -> tuple[int, list[dict], str]:
    """Run ``backfill``; return the exit code, the JSON bodies on stdout and stderr."""
    code, out, err = run_cli(*args)
    bodies = [orjson.loads(line) for line in out.splitlines() if line.startswith("{")]
    return code, bodies, err


def messages(bodies: list[dict]) -> list[str]:
    """The messages of the bodies, in order."""
    return [body["message"] for body in bodies]


def expected_messages(written: list[tuple[str, list[str]]]) -> list[str]:
    """The messages of every written line, oldest file first."""
    return [line.split("]: ", 1)[1].rstrip("\n") for _, lines in written for line in lines]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_dry_run_prints_every_entry_in_chronological_order(tmp_path: Path, jobs: str) -> None:
    """Files given in any order come out oldest first, with dates from names and midnight."""
    written = make_log_set(tmp_path / "logs")
    args = [str(tmp_path / "logs" / name) for name, _ in reversed(written)]
    code, bodies, _ = invoke(*args, "--dry-run", "--timezone", "UTC", "--jobs", jobs)
    assert code == 0
    assert messages(bodies) == expected_messages(written)
    rolled = [b["meta"]["timestamp"] for b in bodies if "f5" not in b["message"]]
    assert rolled == sorted(rolled)
    assert rolled[0] == "2026-11-01T08:00:00Z"
    crossing = [b["meta"]["timestamp"] for b in bodies if " f3 " in b["message"] + " "]
    assert crossing[0].startswith("2026-11-04T23:55") and crossing[-1].startswith("2026-11-05T00")
    assert len({b["meta"]["event_id"] for b in bodies}) == len(bodies)
    assert {b["meta"]["server_id"] for b in bodies} == {"default"}


def test_plain_progress_line_when_not_on_a_terminal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Without a terminal, progress is a log line (files, bytes, lines/s, sent)."""
    make_log_set(tmp_path / "logs", count=10)
    caplog.set_level(logging.INFO, logger="agent.backfill")
    code, _, _ = invoke(str(tmp_path / "logs"), "--dry-run", "--timezone", "UTC")
    assert code == 0
    lines = [r.getMessage() for r in caplog.records if "backfill.progress" in r.getMessage()]
    assert lines and "files 6/6" in lines[-1] and "lines/s" in lines[-1]


def test_dry_run_directory_and_glob_same_as_files(tmp_path: Path) -> None:
    """A logs/ directory and a glob expand to the same ordered set as listing the files."""
    written = make_log_set(tmp_path / "logs", count=20)
    _, by_dir, _ = invoke(str(tmp_path / "logs"), "--dry-run", "--timezone", "UTC")
    _, by_glob, _ = invoke(str(tmp_path / "logs" / "*.log*"), "--dry-run", "--timezone", "UTC")
    assert messages(by_dir) == messages(by_glob) == expected_messages(written)


def test_dry_run_filters_tag_query_since_before(tmp_path: Path) -> None:
    """--tag, -q, --since (inclusive) and --before (exclusive) select as the API would."""
    make_log_set(tmp_path / "logs", count=50)
    code, bodies, stderr = invoke(
        str(tmp_path / "logs"),
        "--dry-run",
        "--timezone",
        "UTC",
        "--tag",
        "death",
        "-q",
        "ZOMBIE F1",
        "--since",
        "2026-11-01 12:00:28",
        "--before",
        "2026-11-01T13:01:03+01:00",
    )
    assert code == 0
    # f1 starts 12:00:00, 7 s apart: deaths are indexes 4 (12:00:28, the --since: kept),
    # 9 (12:01:03, the --before: not kept), 14, ...
    assert messages(bodies) == ["Steve was slain by Zombie f1 4"]
    assert "filtered out" in stderr


def test_dry_run_writes_nothing_and_needs_no_token(tmp_path: Path) -> None:
    """With a config but --dry-run: no state dir, no spool, no token needed; config's zone used."""
    make_log_set(tmp_path / "logs", count=5)
    state = tmp_path / "state"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[state]\ndir = "{state}"\n[[servers]]\nid = "{SERVER}"\n'
        f'log = "{tmp_path / "logs" / "latest.log"}"\ntimezone = "Europe/Berlin"\n'
    )
    code, bodies, _ = invoke(str(tmp_path / "logs"), "--dry-run", "--config", str(config))
    assert code == 0 and len(bodies) == 30
    assert bodies[0]["meta"]["server_id"] == SERVER
    assert bodies[0]["meta"]["timestamp"] == "2026-11-01T07:00:00Z"  # 08:00 in Berlin
    assert not state.exists()


def test_a_bad_token_exits_2_before_the_spool_is_made(tmp_path: Path) -> None:
    """A real ``backfill`` process with a token that breaks the token rule: exit 2 naming
    where it came from, the token not quoted, and no spool file left behind."""
    make_log_set(tmp_path / "logs", count=5)
    state = tmp_path / "state"
    config = tmp_path / "config.toml"
    config.write_text(
        '[api]\nurl = "http://127.0.0.1:9"\ntoken = "so_live_has a space"\n'
        f'[state]\ndir = "{state}"\n[[servers]]\nid = "{SERVER}"\n'
        f'log = "{tmp_path / "logs" / "latest.log"}"\ntimezone = "UTC"\n'
    )
    result = agent_cli("backfill", str(tmp_path / "logs"), "--config", str(config))
    assert result.returncode == 2, result.stderr
    assert "api.token" in result.stderr and "has a space" not in result.stderr
    assert not (state / "spool.sqlite3").exists()


def test_corrupt_gz_is_reported_others_still_done(tmp_path: Path) -> None:
    """A corrupt .gz (CRC mismatch): a clear error naming it, nothing of it printed (its
    content cannot be trusted), every other file printed, exit 1."""
    written = make_log_set(tmp_path / "logs", count=3000)
    broken = tmp_path / "logs" / "2026-11-01-2.log.gz"
    data = bytearray(broken.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = b"\xff" * 64
    broken.write_bytes(bytes(data))
    code, bodies, stderr = invoke(str(tmp_path / "logs"), "--dry-run", "--timezone", "UTC")
    assert code == 1
    assert f"FAILED {broken}: corrupt gzip" in stderr
    others = [m for m in expected_messages(written) if " f1 " not in m + " "]
    assert messages(bodies) == others


def test_dry_run_cut_short_and_empty_gz(tmp_path: Path) -> None:
    """Dry run: a .gz cut short prints its readable part and is named in the summary as cut
    short; an empty .gz is counted as empty (not as already shipped); exit 0."""
    written = make_log_set(tmp_path / "logs", count=3000)
    broken = tmp_path / "logs" / "2026-11-01-2.log.gz"
    data = broken.read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    write_log(tmp_path / "logs" / "2026-11-02-1.log.gz", [])
    code, bodies, stderr = invoke(str(tmp_path / "logs"), "--dry-run", "--timezone", "UTC")
    assert code == 0, stderr
    assert "0 failed, 1 empty, 1 cut short)" in stderr
    assert f"CUT SHORT {broken}" in stderr
    printed = messages(bodies)
    first = expected_messages(written[:1])
    cut_file = expected_messages(written[1:2])
    rest = expected_messages(written[2:])
    assert printed[: len(first)] == first and printed[len(printed) - len(rest) :] == rest
    middle = printed[len(first) : len(printed) - len(rest)]
    assert 0 < len(middle) < len(cut_file)
    assert middle[:-1] == cut_file[: len(middle) - 1]  # the last may be the cut line


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--since", "yesterday"], "--since"),
        (["--before", "2026-11-01T00:00:00"], "no zone"),
        (["--tag", "nosuchtag"], "unknown tag"),
        (["--server-id", "bad id!"], "--server-id"),
        (["--timezone", "Mars/Olympus"], "--timezone"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], complaint: str) -> None:
    """Bad option values are usage errors (exit 2) with a message naming the problem."""
    write_log(tmp_path / "latest.log", log_lines("x", 0, 3))
    code, bodies, stderr = invoke(str(tmp_path / "latest.log"), "--dry-run", *args)
    assert code == 2 and not bodies
    assert complaint in stderr


def test_usage_errors_paths_and_config(tmp_path: Path) -> None:
    """No path, a missing path, or shipping without a config file: exit 2."""
    assert invoke("--dry-run")[0] == 2
    code, _, stderr = invoke(str(tmp_path / "nope.log.gz"), "--dry-run")
    assert code == 2 and "no such file" in stderr
    write_log(tmp_path / "latest.log", log_lines("x", 0, 3))
    code, _, stderr = invoke(
        str(tmp_path / "latest.log"), "--config", str(tmp_path / "missing.toml")
    )
    assert code == 2 and "config file not found" in stderr
