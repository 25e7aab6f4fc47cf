"""File identity by content (agent/parse/fingerprint.py)."""

from __future__ import annotations

import gzip

from hypothesis import given
from hypothesis import strategies as st

from agent.parse.fingerprint import (
    FINGERPRINT_BYTES,
    fingerprint,
    fingerprint_length,
    is_complete,
    matches,
)

HEAD = b"[04:00:00] [main/INFO]: Environment: Environment[sessionHost=...]\n" * 100


class TestFingerprint:
    def test_only_the_first_bytes_count(self) -> None:
        """Bytes after FINGERPRINT_BYTES do not change the fingerprint."""
        assert fingerprint(HEAD[:FINGERPRINT_BYTES]) == fingerprint(HEAD + b"more")

    def test_full_length_is_plain_hex(self) -> None:
        """A full-length fingerprint has no length suffix and is complete."""
        value = fingerprint(HEAD)
        assert ":" not in value and is_complete(value)
        assert fingerprint_length(value) == FINGERPRINT_BYTES

    def test_short_file_records_its_length(self) -> None:
        """A file shorter than the fingerprint length is known by all of its bytes."""
        value = fingerprint(b"[04:00:00] x\n")
        assert value.endswith(":13") and not is_complete(value)
        assert fingerprint_length(value) == 13

    def test_short_fingerprint_matches_the_grown_file(self) -> None:
        """A short file's fingerprint still matches once the file has grown."""
        short = fingerprint(HEAD[:300])
        assert matches(short, HEAD)
        assert not matches(short, b"X" + HEAD[1:])
        assert not matches(short, HEAD[:299])

    def test_gzip_keeps_the_identity(self) -> None:
        """The decompressed stream of a gzipped file has the plain file's fingerprint."""
        assert fingerprint(gzip.decompress(gzip.compress(HEAD))) == fingerprint(HEAD)

    def test_same_first_line_different_later_bytes(self) -> None:
        """Two cron-restarted logs sharing their first line still differ within 4 KiB."""
        first = b"[04:00:00] [main/INFO]: Environment: same\n"
        one = first + b"[04:00:02] [Server thread/INFO]: Done (3.2s)!\n" + HEAD
        two = first + b"[04:00:02] [Server thread/INFO]: Done (2.9s)!\n" + HEAD
        assert fingerprint(one) != fingerprint(two)

    @given(st.binary(min_size=1, max_size=2 * FINGERPRINT_BYTES), st.binary(max_size=64))
    def test_every_prefix_fingerprint_matches_its_extension(self, head: bytes, more: bytes) -> None:
        """A fingerprint taken at any length matches the same stream grown further."""
        assert matches(fingerprint(head), head + more)
