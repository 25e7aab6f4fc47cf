"""Bad bytes in a log (issue 10, item 8): NULs, binary blobs after a line."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import orjson
from typer.testing import CliRunner

from agent.cli.main import app
from agent.encode.body import to_body
from agent.model import RawLine
from agent.parse.lines import LineSplitter
from agent.parse.multiline import MultilineAssembler, is_binary
from agent.parse.reader import EntryReader

CHAT = b"[10:00:00] [Async Chat Thread - #0/INFO]: <Steve> hello\n"
NEXT = b"[10:00:01] [Server thread/INFO]: Steve left the game\n"


def blob(size: int = 3900, seed: int = 7) -> bytes:
    """Deterministic random bytes, as a binary file cat'ed into the log would be."""
    return random.Random(seed).randbytes(size)


def read_all(data: bytes) -> list[dict]:
    reader = EntryReader(server_id="s", fingerprint="f", date_hint=date(2026, 11, 21))
    return [to_body(entry) for entry in reader.feed(data) + reader.finish()]


class TestNul:
    def test_nul_replaced_and_counted_in_a_run(self) -> None:
        """NULs inside a run of whole lines become U+FFFD; each line counts its own."""
        splitter = LineSplitter()
        lines = splitter.feed(b"a\x00b\x00\nplain\n\x00\n")
        assert [line.text for line in lines] == ["a\ufffdb\ufffd", "plain", "\ufffd"]
        assert [line.control_chars for line in lines] == [2, 0, 1]
        assert splitter.stats.control_chars == 3
        assert all(line.end - line.offset for line in lines)  # offsets still byte offsets

    def test_nul_in_a_line_split_across_chunks(self) -> None:
        """A NUL in a line completed by a later chunk is replaced too."""
        splitter = LineSplitter()
        assert splitter.feed(b"ab\x00") == []
        (line,) = splitter.feed(b"c\n")
        assert (line.text, line.control_chars, line.end) == ("ab\ufffdc", 1, 5)

    def test_other_c0_controls_are_kept(self) -> None:
        """Tab, ESC (ANSI colours) and other C0 controls are valid JSON and kept as they are."""
        (line,) = LineSplitter().feed(b"\tat x\x1b[m\x07\n")
        assert (line.text, line.control_chars) == ("\tat x\x1b[m\x07", 0)

    def test_body_has_no_nul_and_flags_control_chars(self) -> None:
        """The encoded body holds no \\u0000 (PostgreSQL rejects it) and says how many."""
        bodies = read_all(b"[10:00:00] [Server thread/INFO]: <Steve> hi\x00\x00 there\n")
        encoded = orjson.dumps(bodies[0])
        assert b"\\u0000" not in encoded
        assert bodies[0]["meta"]["control_chars"] == 2
        assert bodies[0]["meta"]["chat"] == "hi\ufffd\ufffd there"

    def test_clean_line_has_no_flag(self) -> None:
        """Lines without NULs keep the body they had: no control_chars, no binary."""
        meta = read_all(CHAT)[0]["meta"]
        assert "control_chars" not in meta and "binary" not in meta


class TestBinaryContinuation:
    def test_is_binary(self) -> None:
        """Half or more non-printable characters is binary; a stack frame is not."""
        assert is_binary("\ufffd\ufffd\x01ab")
        assert not is_binary("\tat net.minecraft.server.Main.main(Main.java:1)")
        assert not is_binary("")
        assert not is_binary("\x1b[0;31mred\x1b[m")

    def test_blob_after_a_chat_line_is_its_own_unknown_entry(self) -> None:
        """A binary blob after a chat line does not join it: the chat entry is the chat
        line alone, the blob one `unknown` entry flagged binary, then the next line."""
        data = CHAT + blob() + b"\n" + NEXT
        bodies = read_all(data)
        assert [b["meta"]["tags"] for b in bodies] == [
            ["timestamp", "chat"],
            ["unknown"],
            ["timestamp", "connection"],
        ]
        assert bodies[0]["message"] == "<Steve> hello"
        assert bodies[1]["meta"]["binary"] is True
        assert "username" not in bodies[1]["meta"]
        assert "binary" not in bodies[0]["meta"] and "binary" not in bodies[2]["meta"]

    def test_blob_lines_stay_one_entry_and_lose_no_byte(self) -> None:
        """Every byte of the blob is in the binary entry (offsets cover the stream)."""
        data = CHAT + blob(seed=3) + b"\n" + NEXT
        reader = EntryReader(server_id="s", fingerprint="f", date_hint=date(2026, 11, 21))
        entries = reader.feed(data) + reader.finish()
        assert len(entries) == 3
        assert [(e.offset, e.end) for e in entries] == [
            (0, len(CHAT)),
            (len(CHAT), len(data) - len(NEXT)),
            (len(data) - len(NEXT), len(data)),
        ]

    def test_stack_trace_still_joins(self) -> None:
        """Printable continuation lines (a stack trace) still join their entry."""
        assembler = MultilineAssembler()
        header_line = RawLine(0, 10, "x")
        assert assembler.add(header_line, None) is None
        frame = RawLine(10, 20, "\tat a.b(C.java:1)")
        assert assembler.add(frame, None) is None
        released = assembler.flush()
        assert released is not None and len(released.lines) == 2 and not released.binary


def test_parse_cli_blob_and_nul(tmp_path: Path) -> None:
    """End to end through `parse` on a real file: no \\u0000 in the output, the blob apart."""
    log = tmp_path / "2026-11-21-1.log"
    log.write_bytes(CHAT + b"\x00" * 512 + b"\n" + blob() + b"\n" + NEXT)
    result = CliRunner().invoke(app, ["parse", str(log), "--timezone", "UTC"])
    assert result.exit_code == 0, result.stderr
    assert b"\\u0000" not in result.stdout_bytes
    bodies = [orjson.loads(line) for line in result.stdout_bytes.splitlines()]
    assert len(bodies) == 3
    assert bodies[0]["message"] == "<Steve> hello"
    assert bodies[1]["meta"]["binary"] is True and bodies[1]["meta"]["control_chars"] >= 512
