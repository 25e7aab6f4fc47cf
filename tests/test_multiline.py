"""MultilineAssembler: continuations attach, bounds split without loss, console traces join."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.model import RawLine
from agent.parse.minecraft import parse_header
from agent.parse.multiline import Assembled, MultilineAssembler


def assemble(texts: list[str], **bounds: int) -> tuple[list[Assembled], MultilineAssembler]:
    """Run lines (1 byte per char + newline) through an assembler; return all entries."""
    assembler = MultilineAssembler(**bounds)
    out: list[Assembled] = []
    offset = 0
    for text in texts:
        line = RawLine(offset, offset + len(text) + 1, text)
        offset = line.end
        released = assembler.add(line, parse_header(text))
        if released is not None:
            out.append(released)
    last = assembler.flush()
    if last is not None:
        out.append(last)
    return out, assembler


HEAD = "[10:00:00] [Server thread/ERROR]: failed"
TRACE = ["java.lang.RuntimeException: x", "\tat a.B.c(B.java:1)", "\t... 3 more"]


def test_continuations_attach_to_the_entry_before() -> None:
    """Unprefixed lines join the prefixed line before them; the next prefix starts anew."""
    entries, _ = assemble([HEAD, *TRACE, "[10:00:01] [Server thread/INFO]: next"])
    assert [len(e.lines) for e in entries] == [4, 1]
    assert entries[0].messages == ["failed", *TRACE]
    assert not entries[0].truncated


def test_leading_lines_form_their_own_entry() -> None:
    """Lines before any prefixed line are one entry without a header."""
    entries, _ = assemble([*TRACE, HEAD])
    assert entries[0].header is None
    assert [line.text for line in entries[0].lines] == TRACE
    assert entries[1].header is not None


def test_line_bound_splits_without_dropping() -> None:
    """Past max_lines the entry is released flagged truncated; the rest follows, nothing lost."""
    texts = [HEAD, *[f"\tat frame{n}" for n in range(10)]]
    entries, assembler = assemble(texts, max_lines=4)
    assert [len(e.lines) for e in entries] == [4, 4, 3]
    assert [e.truncated for e in entries] == [True, True, False]
    assert [line.text for e in entries for line in e.lines] == texts
    assert entries[1].header is None
    assert assembler.split_entries == 2


def test_byte_bound_splits_without_dropping() -> None:
    """Past max_bytes the entry is released flagged truncated; the overflow line starts the next."""
    texts = [HEAD, "x" * 50, "y" * 50, "z" * 50]
    entries, _ = assemble(texts, max_bytes=110)
    assert [len(e.lines) for e in entries] == [2, 2]
    assert entries[0].truncated
    assert [line.text for e in entries for line in e.lines] == texts


def test_console_format_trace_lines_join_their_entry() -> None:
    """Group G repeats the prefix on trace lines: they join, their message loses the prefix."""
    texts = [
        "[10:32:55 ERROR]: Error occurred while enabling Foo",
        "[10:32:55 ERROR]: \tat a.B.c(B.java:1)",
        "[10:32:55 ERROR]: Caused by: java.io.IOException: y",
        "[10:32:55 ERROR]: \t... 4 more",
        "[10:32:56 INFO]: Done",
    ]
    entries, _ = assemble(texts)
    assert [len(e.lines) for e in entries] == [4, 1]
    assert entries[0].messages[1:] == [
        "\tat a.B.c(B.java:1)",
        "Caused by: java.io.IOException: y",
        "\t... 4 more",
    ]


def test_flush_empties() -> None:
    """flush releases the pending entry once; then nothing is pending."""
    assembler = MultilineAssembler()
    assert assembler.flush() is None
    assembler.add(RawLine(0, 5, "abcd"), None)
    assert assembler.has_pending
    assert assembler.flush() is not None
    assert not assembler.has_pending and assembler.flush() is None


@settings(max_examples=200, deadline=None)
@given(
    texts=st.lists(st.sampled_from([HEAD, *TRACE, "x" * 40]), max_size=60),
    max_lines=st.integers(1, 6),
    max_bytes=st.integers(1, 200),
)
def test_bounds_hold_and_every_line_is_kept(texts: list[str], max_lines: int, max_bytes: int):
    """Every line comes out once, in order; no entry passes a bound unless it is one line."""
    entries, _ = assemble(texts, max_lines=max_lines, max_bytes=max_bytes)
    assert [line.text for e in entries for line in e.lines] == texts
    for entry in entries:
        size = sum(line.end - line.offset for line in entry.lines)
        assert len(entry.lines) <= max_lines
        assert size <= max_bytes or len(entry.lines) == 1
