"""LineSplitter: any chunking gives the same lines, offsets are byte-exact, limits hold."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.model import Decoding
from agent.parse.lines import LineSplitter, decode_line


def split_all(data: bytes, chunk_sizes: list[int], **kwargs: object) -> list[tuple]:
    splitter = LineSplitter(**kwargs)  # type: ignore[arg-type]
    out = []
    pos = 0
    sizes = iter(chunk_sizes)
    while pos < len(data):
        size = next(sizes, len(data)) or 1
        out += splitter.feed(data[pos : pos + size])
        pos += size
    out += splitter.finish()
    return [(line.offset, line.end, line.text, line.truncated, line.decoding) for line in out]


line_bytes = st.lists(
    st.one_of(
        st.binary(max_size=40),
        st.text(max_size=30).map(lambda s: s.encode("utf-8")),
        st.sampled_from([b"\r", b"\r\n", b"\n", b"\xe4\xb8\xad", b"\xff\xfe", b"\x00"]),
    ),
    max_size=30,
).map(b"".join)


class TestChunking:
    @settings(max_examples=300, deadline=None)
    @given(data=line_bytes, sizes=st.lists(st.integers(min_value=1, max_value=50), max_size=60))
    def test_any_chunking_gives_the_same_lines(self, data: bytes, sizes: list[int]) -> None:
        """Feeding the same bytes in any chunk sizes yields identical lines and offsets."""
        whole = split_all(data, [len(data) or 1], max_line_bytes=24)
        assert split_all(data, sizes, max_line_bytes=24) == whole

    @settings(max_examples=300, deadline=None)
    @given(data=line_bytes)
    def test_offsets_tile_the_stream(self, data: bytes) -> None:
        """Lines are contiguous: each starts where the previous ended, the last at len(data)."""
        lines = split_all(data, [7], max_line_bytes=24)
        position = 0
        for offset, end, *_ in lines:
            assert offset == position
            position = end
        assert position == len(data)

    @settings(max_examples=200, deadline=None)
    @given(data=line_bytes, start=st.integers(min_value=0, max_value=10**12))
    def test_start_offset_shifts_every_offset(self, data: bytes, start: int) -> None:
        """Resuming at a saved offset numbers lines from that offset."""
        base = split_all(data, [5])
        shifted = split_all(data, [5], start_offset=start)
        assert [(o + start, e + start, *rest) for o, e, *rest in base] == shifted


class TestLines:
    def test_partial_last_line_is_held_back(self) -> None:
        """A line without its newline is not returned until it completes."""
        splitter = LineSplitter()
        assert splitter.feed(b"[10:00:00] [Server thread/INFO]: Do") == []
        assert splitter.position == 0
        (line,) = splitter.feed(b"ne (1.0s)!\n")
        assert (line.offset, line.end, line.text) == (
            0,
            46,
            "[10:00:00] [Server thread/INFO]: Done (1.0s)!",
        )
        assert splitter.position == 46

    def test_crlf_is_stripped(self) -> None:
        """CRLF endings give the same text as LF, with byte offsets counting the CR."""
        lines = LineSplitter().feed(b"a\r\nb\n")
        assert [(x.offset, x.end, x.text) for x in lines] == [(0, 3, "a"), (3, 5, "b")]

    def test_finish_returns_the_partial_line_of_a_finished_file(self) -> None:
        """At the end of a finite file, a last line without a newline still counts."""
        splitter = LineSplitter()
        assert splitter.feed(b"one\ntwo") and splitter.finish()[0].text == "two"
        assert splitter.position == 7

    def test_ten_megabyte_line_is_truncated_not_dropped(self) -> None:
        """A 10 MB line comes out cut to the limit and flagged, and memory stays bounded."""
        splitter = LineSplitter(max_line_bytes=1024)
        chunk = b"x" * 65536
        out = []
        for _ in range(160):
            out += splitter.feed(chunk)
            assert splitter._pending is not None and len(splitter._pending) <= 1025
        out += splitter.feed(b"\nnext\n")
        assert [(x.end, len(x.text), x.truncated) for x in out] == [
            (160 * 65536 + 1, 1024, True),
            (160 * 65536 + 6, 4, False),
        ]
        assert splitter.stats.truncated == 1

    def test_truncation_does_not_split_a_utf8_character(self) -> None:
        """The cut lands on a character boundary, so no replacement character appears."""
        (line,) = LineSplitter(max_line_bytes=16).feed(("é" * 20 + "\n").encode())
        assert line.truncated and line.text == "é" * 8 and line.decoding is Decoding.UTF8

    @pytest.mark.parametrize(
        ("raw", "fallback", "text", "decoding"),
        [
            ("Zoë".encode(), "cp1252", "Zoë", Decoding.UTF8),
            ("Zoë".encode("cp1252"), "cp1252", "Zoë", Decoding.FALLBACK),
            ("信息".encode("gbk"), "gbk", "信息", Decoding.FALLBACK),
            (b"\xff\xfe bad", None, "\ufffd\ufffd bad", Decoding.REPLACED),
            (b"\x81\x8d", "cp1252", "\ufffd\ufffd", Decoding.REPLACED),
            (b"nul\x00byte", None, "nul\x00byte", Decoding.UTF8),
        ],
    )
    def test_decoding_order(
        self, raw: bytes, fallback: str | None, text: str, decoding: Decoding
    ) -> None:
        """UTF-8 first, then the source's fallback, then replacement characters."""
        assert decode_line(raw, fallback) == (text, decoding)

    def test_unknown_fallback_encoding_is_rejected(self) -> None:
        """A misspelt encoding is a configuration error at construction, not a crash later."""
        with pytest.raises(LookupError):
            LineSplitter(fallback_encoding="utf-9")
