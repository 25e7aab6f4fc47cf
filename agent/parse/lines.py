"""Bytes in, complete decoded lines out, with their byte offsets. Pure: no file I/O.

:class:`LineSplitter` is fed chunks of a byte stream in any sizes and returns the
complete lines in them. Invariants the rest of the agent relies on:

* A line is complete only when its ``\\n`` has arrived; the partial last line is held
  back (and never part of an offset handed on) until more bytes or :meth:`finish`.
* ``offset``/``end`` are byte positions in the stream, so ``end`` of a line is a valid
  place to resume reading. ``\\r\\n`` endings are accepted; the ``\\r`` is not in the text.
* A line longer than ``max_line_bytes`` is cut to its first ``max_line_bytes`` bytes and
  flagged ``truncated``; the rest is skipped without being buffered, so memory stays
  bounded whatever the line length. It is never dropped.
* Decoding tries UTF-8, then the source's fallback encoding, then UTF-8 with U+FFFD
  replacement characters; each line records which one worked and the splitter counts them.
  With ``detect_encoding`` (the server's ``encoding`` is not set) and no fallback given,
  the first line that is not UTF-8 makes the splitter guess the fallback once, from the
  non-UTF-8 lines among the bytes at hand (agent/parse/encoding.py), and keep it for the
  rest of the stream (:attr:`LineStats.detected`). A source may :meth:`LineSplitter.prime`
  the guess with bytes it already has (the live file's earlier content), so a line that
  arrives alone is not judged alone.
* NUL characters are replaced by U+FFFD and counted (``RawLine.control_chars``, sent as
  ``meta.control_chars``): PostgreSQL's text and jsonb cannot hold ``\u0000``, so an API
  backed by it rejects the whole request. U+FFFD, not a visible escape such as ``\0``,
  because a log line may contain a literal backslash-zero, and U+FFFD already means "a
  byte that could not be kept" here. The other C0 controls are kept: JSON escapes them,
  PostgreSQL stores them, and some carry meaning (tab in stack traces, ESC in ANSI colours).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from agent.model import Decoding, RawLine
from agent.parse.encoding import SAMPLE_BYTES, detect, non_utf8_sample

DEFAULT_MAX_LINE_BYTES = 64 * 1024
NUL = "\x00"
NUL_REPLACEMENT = "\ufffd"


@dataclass(slots=True)
class LineStats:
    """Counters a source reports: lines, truncations and non-UTF-8 decodings."""

    lines: int = 0
    truncated: int = 0
    fallback_decoded: int = 0
    replaced: int = 0
    control_chars: int = 0  # NUL characters replaced by U+FFFD
    detected: str | None = None  # the fallback encoding guessed for this stream, if any


def check_encoding(name: str) -> str:
    """Return the canonical codec name, or raise LookupError for an unknown encoding."""
    return codecs.lookup(name).name


def decode_line(raw: bytes, fallback: str | None) -> tuple[str, Decoding]:
    """Decode one line: UTF-8, else the fallback encoding, else UTF-8 with replacements."""
    try:
        return raw.decode("utf-8"), Decoding.UTF8
    except UnicodeDecodeError:
        pass
    if fallback is not None:
        try:
            return raw.decode(fallback), Decoding.FALLBACK
        except UnicodeDecodeError:
            pass
    return raw.decode("utf-8", "replace"), Decoding.REPLACED


def _cut_at_char_boundary(raw: bytes, limit: int) -> bytes:
    """Cut to at most ``limit`` bytes without splitting a UTF-8 sequence when possible."""
    cut = limit
    # Back off over at most 3 continuation bytes (10xxxxxx) so the head stays decodable.
    while cut > limit - 3 and cut > 0 and (raw[cut] & 0xC0) == 0x80:
        cut -= 1
    if (raw[cut] & 0xC0) != 0x80:
        return raw[:cut]
    return raw[:limit]


class LineSplitter:
    """Incremental splitter for one byte stream. Feed chunks, receive complete lines."""

    def __init__(
        self,
        *,
        start_offset: int = 0,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        fallback_encoding: str | None = None,
        detect_encoding: bool = False,
    ) -> None:
        if max_line_bytes < 16:
            raise ValueError("max_line_bytes must be at least 16")
        self.max_line_bytes = max_line_bytes
        self.fallback_encoding = (
            None
            if fallback_encoding is None or check_encoding(fallback_encoding) == "utf-8"
            else fallback_encoding
        )
        self.stats = LineStats()
        # Guess a fallback at the first non-UTF-8 line: only when none was given (an
        # explicit encoding, utf-8 included, is authoritative).
        self._detect = detect_encoding and fallback_encoding is None
        self._primer = b""  # bytes a source gave for the guess (see prime)
        self._chunk = b""  # the bytes of the current feed (the guess's sample)
        self._line_start = start_offset  # stream offset of the first byte not yet emitted
        self._pending = b""  # bytes of the current partial line (at most max_line_bytes + 1)
        self._overlong = False  # the current line passed the limit; its tail is skipped
        self._overlong_length = 0  # bytes of the current over-long line seen so far

    @property
    def position(self) -> int:
        """Offset just after the last complete line returned: where to resume reading."""
        return self._line_start

    @property
    def pending_bytes(self) -> int:
        """Length of the partial line held back (an over-long one counts in full)."""
        return self._overlong_length if self._overlong else len(self._pending)

    def prime(self, data: bytes) -> None:
        """Bytes of the same stream to include in the encoding guess, if one is made."""
        if self._detect:
            self._primer = non_utf8_sample(data)

    def feed(self, data: bytes) -> list[RawLine]:
        """Add the next chunk of the stream and return the lines it completes."""
        if not data:
            return []
        if self._detect:
            self._chunk = data
        parts = data.split(b"\n")
        tail = parts.pop()
        lines: list[RawLine] = []
        if parts:
            lines.append(self._complete(parts[0], first=True))
            if len(parts) > 1:
                # The bytes between the first and the last newline: whole lines only.
                run = data[data.find(b"\n") + 1 : data.rfind(b"\n")]
                lines += self._complete_run(parts[1:], run)
        self._hold(tail)
        return lines

    def finish(self) -> list[RawLine]:
        """End of a finite input: the partial last line, if any, is returned as a line."""
        if not self._overlong and not self._pending:
            return []
        return [self._emit(self._pending, self.pending_bytes, overlong=self._overlong)]

    def _complete(self, raw: bytes, *, first: bool) -> RawLine:
        """A ``\\n`` ended the line whose bytes (after what is pending, if first) are ``raw``."""
        if not first:
            return self._emit(raw, len(raw) + 1, overlong=False)
        if self._overlong:
            return self._emit(self._pending, self._overlong_length + len(raw) + 1, overlong=True)
        if self._pending:
            raw = self._pending + raw
        return self._emit(raw, len(raw) + 1, overlong=False)

    def _complete_run(self, parts: list[bytes], run: bytes) -> list[RawLine]:
        """Whole lines (``run`` is ``parts`` joined by newlines): decoded in one call when
        they are valid UTF-8 and none is over-long, the common case; else line by line.
        A newline byte never occurs inside a UTF-8 sequence, so the decoded run splits
        into exactly the same lines."""
        if max(map(len, parts)) > self.max_line_bytes:
            return [self._emit(raw, len(raw) + 1, overlong=False) for raw in parts]
        try:
            decoded = run.decode("utf-8")
        except UnicodeDecodeError:
            decoded = NUL  # line by line, below
        if NUL in decoded:  # rare: undecodable bytes or NULs are handled line by line
            return [self._emit(raw, len(raw) + 1, overlong=False) for raw in parts]
        texts = decoded.split("\n")
        offset = self._line_start
        lines = []
        append = lines.append
        utf8 = Decoding.UTF8
        for raw, text in zip(parts, texts, strict=True):
            end = offset + len(raw) + 1
            if text and text[-1] == "\r":
                text = text[:-1]
            append(RawLine(offset, end, text, False, utf8))
            offset = end
        self._line_start = offset
        self.stats.lines += len(parts)
        return lines

    def _hold(self, tail: bytes) -> None:
        """Keep the start of the unfinished line, but never more than the limit allows."""
        if self._overlong:
            self._overlong_length += len(tail)
            return
        pending = self._pending + tail if self._pending else tail
        if len(pending) > self.max_line_bytes + 1:
            # Keep one byte past the limit so a trailing "\r" is still recognisable.
            self._overlong = True
            self._overlong_length = len(pending)
            pending = pending[: self.max_line_bytes + 1]
        self._pending = pending

    def _maybe_detect(self, raw: bytes) -> None:
        """At the first line that is not UTF-8: guess the fallback, once."""
        try:
            raw.decode("utf-8")
            return
        except UnicodeDecodeError:
            pass
        parts = (self._primer, raw, non_utf8_sample(self._chunk))
        found = detect(b"\n".join(part for part in parts if part)[:SAMPLE_BYTES])
        self._detect, self._primer, self._chunk = False, b"", b""
        self.stats.detected = found
        if found is not None:
            self.fallback_encoding = found

    def _emit(self, raw: bytes, length: int, *, overlong: bool) -> RawLine:
        """Build the line of ``length`` stream bytes whose (possibly cut) content is ``raw``."""
        offset = self._line_start
        self._line_start = offset + length
        self._pending = b""
        self._overlong = False
        self._overlong_length = 0
        if raw.endswith(b"\r") and not overlong:
            raw = raw[:-1]
        truncated = overlong or len(raw) > self.max_line_bytes
        if truncated:
            raw = _cut_at_char_boundary(raw, self.max_line_bytes)
        if self._detect and not raw.isascii():
            self._maybe_detect(raw)
        text, decoding = decode_line(raw, self.fallback_encoding)
        nuls = 0
        if NUL in text:
            nuls = text.count(NUL)
            text = text.replace(NUL, NUL_REPLACEMENT)
        stats = self.stats
        stats.lines += 1
        stats.control_chars += nuls
        if truncated:
            stats.truncated += 1
        if decoding is Decoding.FALLBACK:
            stats.fallback_decoded += 1
        elif decoding is Decoding.REPLACED:
            stats.replaced += 1
        return RawLine(offset, offset + length, text, truncated, decoding, nuls)
