"""``serverops-agent parse``: plain, gzip and stdin input, bad files, bad input, usage errors."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from agent.cli.main import app
from agent.encode.body import event_id
from agent.parse.fingerprint import fingerprint

ROOT = Path(__file__).resolve().parents[1]
LINES = (
    b"[10:00:00] [Server thread/INFO]: Starting minecraft server version 1.21.4\n"
    b"[10:00:05] [Server thread/ERROR]: Something failed\n"
    b"java.lang.IllegalStateException: boom\n"
    b"\tat a.b.C.d(C.java:1)\n"
    b"[10:01:00] [Async Chat Thread - #0/INFO]: <Steve> hello\n"
)
ARGS = ["--server-id", "s1", "--timezone", "UTC", "--date", "2026-11-21"]


def run(*args: str, stdin: bytes | None = None) -> tuple[int, list[dict], str]:
    """Run the command; return the exit code, the parsed JSON lines and stderr."""
    result = CliRunner().invoke(app, ["parse", *args], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    bodies = [orjson.loads(line) for line in result.stdout_bytes.splitlines()]
    return result.exit_code, bodies, result.stderr


def test_plain_file(tmp_path: Path) -> None:
    """A plain file gives one body per entry, with UTC times and the continuation joined."""
    log = tmp_path / "latest.log"
    log.write_bytes(LINES)
    code, bodies, _ = run(str(log), *ARGS)
    assert code == 0
    assert [b["message"] for b in bodies] == [
        "Starting minecraft server version 1.21.4",
        "Something failed\njava.lang.IllegalStateException: boom\n\tat a.b.C.d(C.java:1)",
        "<Steve> hello",
    ]
    assert [b["level"] for b in bodies] == ["info", "error", "info"]
    assert bodies[0]["meta"]["timestamp"] == "2026-11-21T10:00:00Z"
    assert bodies[0]["meta"]["server_id"] == "s1"
    assert bodies[0]["meta"]["event_id"] == event_id("s1", fingerprint(LINES), 0)
    assert "line" not in bodies[0]["meta"]


def test_gzip_file_same_bodies_as_plain(tmp_path: Path) -> None:
    """A .gz file gives exactly the bodies of its decompressed content (same event ids)."""
    plain, packed = tmp_path / "a.log", tmp_path / "a.log.gz"
    plain.write_bytes(LINES)
    packed.write_bytes(gzip.compress(LINES))
    assert run(str(packed), *ARGS)[1] == run(str(plain), *ARGS)[1]


def test_date_from_rotated_file_name(tmp_path: Path) -> None:
    """Without --date, a rotated file's name gives the date; the timezone converts to UTC."""
    log = tmp_path / "2026-07-04-2.log.gz"
    log.write_bytes(gzip.compress(LINES))
    _, bodies, _ = run(str(log), "--timezone", "Europe/Berlin")
    assert bodies[0]["meta"]["timestamp"] == "2026-07-04T08:00:00Z"


def test_stdin(tmp_path: Path) -> None:
    """'-' reads standard input."""
    code, bodies, _ = run("-", *ARGS, stdin=LINES)
    assert code == 0
    assert len(bodies) == 3


def test_raw_line_option(tmp_path: Path) -> None:
    """--raw-line adds meta.line with the whole raw text of the entry."""
    _, bodies, _ = run("-", *ARGS, "--raw-line", stdin=LINES)
    assert bodies[0]["meta"]["line"] == LINES.split(b"\n")[0].decode()


def test_missing_file_among_good_ones(tmp_path: Path) -> None:
    """A missing file: one stderr line, the other files still printed, exit code 1."""
    good = tmp_path / "good.log"
    good.write_bytes(LINES)
    code, bodies, err = run(str(good), str(tmp_path / "missing.log"), str(good), *ARGS)
    assert code == 1
    assert len(bodies) == 6
    assert err.count("\n") == 1
    assert "missing.log" in err and "No such file" in err


def test_cut_short_gzip_prints_what_was_read_with_a_warning(tmp_path: Path) -> None:
    """A gzip file cut mid-way: the entries before the cut are printed, a warning names the
    file and the cut, exit 0 (its readable part is all there is)."""
    many = LINES * 2000
    packed = gzip.compress(many)
    broken = tmp_path / "broken.log.gz"
    broken.write_bytes(packed[: len(packed) // 2])
    code, bodies, err = run(str(broken), *ARGS)
    assert code == 0
    assert 0 < len(bodies) < 6000
    assert "broken.log.gz" in err and "cut short" in err and "Traceback" not in err


def test_gzip_cut_inside_its_header_is_a_warning(tmp_path: Path) -> None:
    """Only the gzip header (the server died as compression began): nothing, a warning."""
    broken = tmp_path / "broken.log.gz"
    broken.write_bytes(gzip.compress(LINES)[:10])
    code, bodies, err = run(str(broken), *ARGS)
    assert (code, bodies) == (0, [])
    assert "cut short" in err


def test_garbage_after_gzip_header(tmp_path: Path) -> None:
    """Bytes that start like gzip but are not: a one-line error, exit 1, no traceback."""
    bad = tmp_path / "bad.log.gz"
    bad.write_bytes(b"\x1f\x8b" + b"not gzip at all" * 10)
    code, bodies, err = run(str(bad), *ARGS)
    assert (code, bodies) == (1, [])
    assert err.startswith("serverops-agent parse: ") and err.count("\n") == 1


def test_empty_file(tmp_path: Path) -> None:
    """An empty file prints nothing and succeeds."""
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    assert run(str(empty), *ARGS)[:2] == (0, [])


def test_no_trailing_newline(tmp_path: Path) -> None:
    """The last line without a newline is still an entry."""
    log = tmp_path / "a.log"
    log.write_bytes(b"[10:00:00] [Server thread/INFO]: last words")
    _, bodies, _ = run(str(log), *ARGS)
    assert [b["message"] for b in bodies] == ["last words"]


def test_binary_garbage_and_nul_bytes(tmp_path: Path) -> None:
    """Random bytes and NUL bytes become entries with replacement characters, flagged."""
    log = tmp_path / "bin.log"
    log.write_bytes(bytes(range(256)) * 40 + b"\n\x00\x00\x00\n")
    code, bodies, _ = run(str(log), *ARGS)
    assert code == 0
    assert bodies
    assert bodies[0]["meta"]["decoding"] == "replaced"
    assert all(b["level"] == "info" for b in bodies)


def test_invalid_utf8_with_fallback_encoding(tmp_path: Path) -> None:
    """cp1252 bytes decode with --encoding and are flagged as fallback-decoded."""
    log = tmp_path / "a.log"
    log.write_bytes("[10:00:00] [Server thread/INFO]: <Zoë> café\n".encode("cp1252"))
    _, bodies, _ = run(str(log), *ARGS, "--encoding", "cp1252")
    assert bodies[0]["message"] == "<Zoë> café"
    assert bodies[0]["meta"]["decoding"] == "fallback"
    _, bodies, _ = run(str(log), *ARGS, "--encoding", "utf-8")  # explicit: authoritative
    assert "\ufffd" in bodies[0]["message"]
    assert bodies[0]["meta"]["decoding"] == "replaced"


def test_ten_megabyte_line_is_truncated_and_flagged(tmp_path: Path) -> None:
    """A 10 MB line is cut to the line limit, flagged truncated, and the next line still read."""
    log = tmp_path / "big.log"
    log.write_bytes(
        b"[10:00:00] [Server thread/INFO]: " + b"x" * 10_000_000 + b"\n"
        b"[10:00:01] [Server thread/INFO]: after\n"
    )
    code, bodies, err = run(str(log), *ARGS)
    assert code == 0 and "Traceback" not in err
    assert bodies[0]["meta"]["truncated"] is True
    assert len(bodies[0]["message"]) < 70_000
    assert bodies[1]["message"] == "after"
    assert "truncated" not in bodies[1]["meta"]


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [
        ("--timezone", "Mars/Olympus", "--timezone"),
        ("--date", "2026-13-01", "--date"),
        ("--date", "yesterday", "--date"),
        ("--encoding", "no-such-codec", "--encoding"),
        ("--server-id", "no spaces/allowed", "--server-id"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, option: str, value: str, needle: str) -> None:
    """A bad --timezone, --date, --encoding or --server-id exits 2, naming the option."""
    log = tmp_path / "a.log"
    log.write_bytes(LINES)
    code, bodies, err = run(str(log), option, value)
    assert (code, bodies) == (2, [])
    assert needle in err and "Traceback" not in err


def test_quick_start_command_on_the_examples() -> None:
    """The README's quick start prints sensible bodies for both sample files."""
    logs = ROOT / "examples" / "logs"
    code, bodies, err = run(
        str(logs / "2026-11-20-1.log.gz"),
        str(logs / "latest.log"),
        "--server-id",
        "survival",
        "--timezone",
        "Europe/Berlin",
    )
    assert (code, err) == (0, "")
    assert len(bodies) > 60
    assert bodies[0]["meta"]["timestamp"].startswith("2026-11-20T07:59:51")
    assert all(b["meta"]["server_id"] == "survival" for b in bodies)
    assert len({b["meta"]["event_id"] for b in bodies}) == len(bodies)
    trace = [b for b in bodies if b["level"] == "error"]
    assert len(trace) == 1 and trace[0]["message"].count("\n\tat ") == 5


def test_numbers_beyond_64_bits_do_not_crash(tmp_path: Path) -> None:
    """A lag of 10**23 ms (beyond JSON numbers orjson writes) is printed as text."""
    line = b"[10:00:00] [Server thread/WARN]: Can't keep up! Is the server overloaded? "
    line += b"Running 99999999999999999999999ms or 99999999999999999999999 ticks behind\n"
    code, bodies, err = run("-", *ARGS, stdin=line + LINES)
    assert (code, err) == (0, "")
    assert len(bodies) == 4
    assert bodies[0]["level"] == "warn"


@pytest.mark.parametrize(
    ("filters", "messages"),
    [
        (["--tag", "death"], ["Steve was slain by Zombie"]),
        (["--tag", "chat", "--tag", "death"], ["<Steve> hi", "Steve was slain by Zombie"]),
        (["-q", "ZOMBIE"], ["Steve was slain by Zombie"]),
        (["--since", "2026-11-21 10:00:01"], ["<Steve> hi", "Steve was slain by Zombie"]),
        (["--before", "2026-11-21T10:00:01Z"], ["Starting minecraft server version 1.21.4"]),
        (
            ["--since", "2026-11-21T11:00:01+01:00", "--before", "2026-11-21 10:00:02"],
            ["<Steve> hi"],
        ),
    ],
)
def test_filters_are_those_of_backfill(
    tmp_path: Path, filters: list[str], messages: list[str]
) -> None:
    """--tag (any of), -q (case-insensitive), --since inclusive, --before exclusive."""
    log = tmp_path / "latest.log"
    log.write_bytes(
        b"[10:00:00] [Server thread/INFO]: Starting minecraft server version 1.21.4\n"
        b"[10:00:01] [Async Chat Thread - #0/INFO]: <Steve> hi\n"
        b"[10:00:02] [Server thread/INFO]: Steve was slain by Zombie\n"
    )
    code, bodies, _ = run(str(log), *ARGS, *filters)
    assert code == 0
    assert [body["message"] for body in bodies] == messages


@pytest.mark.parametrize(
    "filters", [["--tag", "chatt"], ["--since", "yesterday"], ["--before", "2026-11-21T10:00:00"]]
)
def test_bad_filters_exit_2(tmp_path: Path, filters: list[str]) -> None:
    """An unknown tag, an unreadable time or a time without a zone is a usage error."""
    log = tmp_path / "latest.log"
    log.write_bytes(b"[10:00:00] [Server thread/INFO]: x\n")
    code, bodies, err = run(str(log), *ARGS, *filters)
    assert code == 2 and bodies == [] and filters[0] in err


PLUGIN_CHAT = "[10:02:00] [Server thread/INFO]: [Member] Steve » hi all\n".encode()
PATTERN_CONFIG = """
[[servers]]
id = "{server}"
log = "{log}"
timezone = "Europe/Berlin"

[[servers.patterns]]
regex = '^\\[\\w+\\] (?P<username>\\w{{3,16}}) » (?P<chat>.*)$'
tags = ["chat"]
"""


@pytest.fixture
def no_serverops_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("SERVEROPS_")]:
        monkeypatch.delenv(name)


def write_config(tmp_path: Path, *servers: str) -> Path:
    config = tmp_path / "config.toml"
    text = "".join(
        PATTERN_CONFIG.format(server=s, log=tmp_path / s / "latest.log") for s in servers
    )
    config.write_text(text, encoding="utf-8")
    return config


@pytest.mark.usefixtures("no_serverops_env")
class TestConfig:
    def test_patterns_of_the_configured_server_apply(self, tmp_path: Path) -> None:
        """--config: the server's [[servers.patterns]] tag the plugin chat line, its
        timezone applies, its id is the server id; without --config the line is unknown."""
        log = tmp_path / "latest.log"
        log.write_bytes(LINES + PLUGIN_CHAT)
        config = write_config(tmp_path, "survival")
        code, bodies, err = run(str(log), "--config", str(config), "--date", "2026-11-21")
        assert (code, err) == (0, "")
        last = bodies[-1]["meta"]
        assert last["tags"] == ["timestamp", "chat"]
        assert (last["username"], last["chat"]) == ("Steve", "hi all")
        assert last["server_id"] == "survival"
        assert last["timestamp"] == "2026-11-21T09:02:00Z"  # Europe/Berlin, from the config
        assert [b["meta"]["tags"] for b in bodies[:-1]] == [
            b["meta"]["tags"] for b in run(str(log), *ARGS)[1][:-1]
        ]
        assert run(str(log), *ARGS)[1][-1]["meta"]["tags"] == ["timestamp", "unknown"]

    def test_command_line_timezone_wins(self, tmp_path: Path) -> None:
        """--timezone beats the server's timezone; the patterns still apply."""
        log = tmp_path / "latest.log"
        log.write_bytes(PLUGIN_CHAT)
        config = write_config(tmp_path, "survival")
        code, bodies, _ = run(str(log), "-c", str(config), *ARGS[2:])
        assert code == 0
        assert bodies[0]["meta"]["timestamp"] == "2026-11-21T10:02:00Z"
        assert bodies[0]["meta"]["username"] == "Steve"

    def test_server_id_picks_the_server(self, tmp_path: Path) -> None:
        """With several servers --server-id is needed, and must be one of them."""
        log = tmp_path / "latest.log"
        log.write_bytes(PLUGIN_CHAT)
        config = write_config(tmp_path, "survival", "creative")
        code, _, err = run(str(log), "--config", str(config))
        assert code == 2 and "--server-id is needed (survival, creative)" in err
        code, _, err = run(str(log), "--config", str(config), "--server-id", "lobby")
        assert code == 2 and "'lobby' is not in the config" in err
        code, bodies, _ = run(str(log), "--config", str(config), "--server-id", "creative")
        assert code == 0 and bodies[0]["meta"]["server_id"] == "creative"

    def test_server_id_filled_from_a_glob(self, tmp_path: Path) -> None:
        """A glob's servers are chosen by their filled ids, as backfill chooses them
        (agent/cli/servers.py); the table's patterns apply to each."""
        for name in ("alpha", "beta"):
            (tmp_path / name).mkdir()
            (tmp_path / name / "latest.log").write_bytes(PLUGIN_CHAT)
        config = write_config(tmp_path, "{1}")
        config.write_text(config.read_text().replace("{1}/latest.log", "*/latest.log"))
        log = str(tmp_path / "beta" / "latest.log")
        code, _, err = run(log, "--config", str(config))
        assert code == 2 and "--server-id is needed (alpha, beta)" in err
        code, bodies, err = run(log, "--config", str(config), "--server-id", "beta")
        assert (code, err) == (0, "")
        assert bodies[0]["meta"]["server_id"] == "beta"
        assert bodies[0]["meta"]["username"] == "Steve"

    def test_bad_pattern_exits_2_naming_the_key(self, tmp_path: Path) -> None:
        """A pattern with an unknown group is a usage error naming its key; nothing read."""
        log = tmp_path / "latest.log"
        log.write_bytes(PLUGIN_CHAT)
        config = write_config(tmp_path, "survival")
        config.write_text(config.read_text().replace("?P<chat>", "?P<message>"))
        code, bodies, err = run(str(log), "--config", str(config))
        assert (code, bodies) == (2, [])
        assert "servers.0.patterns.0.regex: unknown group(s) message" in err
