"""Multi-line entries: continuation lines join the prefixed line before them. Pure.

A line without a recognised prefix (a stack-trace frame, a plugin banner, help output)
belongs to the entry before it. Rules:

* An entry is released when the next prefixed line arrives, at end of input
  (:meth:`MultilineAssembler.flush`), or when the caller decides it has been idle long
  enough (the live tail; the reader keeps the clock, this module keeps none).
* Bounds: an entry holds at most ``max_lines`` lines and ``max_bytes`` stream bytes.
  The line that would pass a bound is never dropped: the entry so far is released
  flagged ``truncated`` and that line starts a new entry (without a header, like a file
  that starts mid-trace). So memory stays bounded and every byte is still sent.
* Lines before the first prefixed line (a file starting mid-trace, a bundler's preamble)
  form their own entry, without a header.
* The console format (group G) repeats the prefix on every stack-trace line
  (``[10:32:55 ERROR]: \\tat ...``, ``Caused by: ...``, ``... 5 more``): such lines are
  continuations too, with their prefix removed from the entry's message.

An entry that starts without a header (leading lines, or the overflow after a bound) has
the raw text of its first line as its message.

Binary junk (a blob written into the log, a NUL-filled block after a crash) is not a
continuation: a continuation line of which at least half the characters are not printable
(:func:`is_binary`) releases the entry before it and starts an entry of its own, flagged
``binary`` (sent as an ``unknown`` entry with ``meta.binary = true``). The blob's further
lines, printable or not, join that binary entry, so a blob stays one entry (within the
bounds) and never inflates the chat line it followed.
"""

from __future__ import annotations

import re

from agent.model import RawLine
from agent.parse.minecraft import Header, LineFormat

DEFAULT_MAX_LINES = 500
DEFAULT_MAX_BYTES = 256 * 1024

# A console-format message that is a stack-trace line, not a new entry.
_CONSOLE = LineFormat.CONSOLE
_CONSOLE_TRACE = re.compile(r"\s|Caused by: |Suppressed: |\.\.\. \d+ more")
# Not printable: C0 controls but tab and ESC (ANSI colours), DEL, C1 controls, and U+FFFD
# (an undecodable byte, or a NUL replaced by agent/parse/lines.py).
_NOT_PRINTABLE = re.compile("[\x00-\x08\x0a-\x1a\x1c-\x1f\x7f-\x9f\ufffd]")


def is_binary(text: str) -> bool:
    """True when at least half of ``text``'s characters are not printable (and it has some)."""
    if not text or _NOT_PRINTABLE.search(text) is None:
        return False  # the common case: one scan, nothing found
    return 2 * len(_NOT_PRINTABLE.findall(text)) >= len(text)


class Assembled:
    """One entry's lines: the first, and the continuation lines (if any) after it.

    ``more_messages[i]`` is ``more_lines[i]``'s text without a repeated console prefix.
    A plain class with slots: one is built per entry, on the hot path.
    """

    __slots__ = ("binary", "first", "header", "more_lines", "more_messages", "truncated")

    def __init__(self, header: Header | None, first: RawLine, *, binary: bool = False) -> None:
        self.header = header  # the first line's header; None for leading continuation lines
        self.first = first
        self.more_lines: list[RawLine] | None = None
        self.more_messages: list[str] | None = None
        self.truncated = False  # released at a bound; the following lines form the next entry
        self.binary = binary  # starts with a mostly non-printable line (see the module doc)

    @property
    def lines(self) -> list[RawLine]:
        """All lines of the entry, first to last."""
        return [self.first, *(self.more_lines or ())]

    @property
    def messages(self) -> list[str]:
        """Each line's text without its prefix."""
        first = self.header.message if self.header is not None else self.first.text
        return [first, *(self.more_messages or ())]

    def append(self, line: RawLine, message: str) -> None:
        """Attach a continuation line."""
        if self.more_lines is None or self.more_messages is None:
            self.more_lines, self.more_messages = [line], [message]
        else:
            self.more_lines.append(line)
            self.more_messages.append(message)


class MultilineAssembler:
    """Joins continuation lines to their entry, within bounds."""

    def __init__(
        self, *, max_lines: int = DEFAULT_MAX_LINES, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        if max_lines < 1 or max_bytes < 1:
            raise ValueError("max_lines and max_bytes must be positive")
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self._pending: Assembled | None = None
        self._lines = 0  # lines in the pending entry
        self._bytes = 0  # stream bytes in the pending entry
        self.split_entries = 0  # entries released at a bound (counted, never dropped)
        self.binary_entries = 0  # binary entries started (see the module docstring)

    @property
    def has_pending(self) -> bool:
        """True when an entry is waiting for more lines."""
        return self._pending is not None

    def add(self, line: RawLine, header: Header | None) -> Assembled | None:
        """Add a line (``header`` None: no recognised prefix); return an entry it releases."""
        pending = self._pending
        if header is not None and (
            header.format is not _CONSOLE or _CONSOLE_TRACE.match(header.message) is None
        ):
            self._pending = Assembled(header, line)  # a new entry starts: the common case
            self._lines = 1
            self._bytes = line.end - line.offset
            return pending
        message = header.message if header is not None else line.text
        size = line.end - line.offset
        if pending is None or self._lines >= self.max_lines or self._bytes + size > self.max_bytes:
            if pending is not None:
                pending.truncated = True
                self.split_entries += 1
            return self._start_headerless(
                line, pending, binary=pending is not None and pending.binary
            )
        if header is None and not pending.binary and is_binary(line.text):
            return self._start_headerless(line, pending, binary=True)
        pending.append(line, message)
        self._lines += 1
        self._bytes += size
        return None

    def _start_headerless(
        self, line: RawLine, released: Assembled | None, *, binary: bool
    ) -> Assembled | None:
        """Start an entry without a header (its message is the raw text); return ``released``."""
        started = self._pending = Assembled(None, line, binary=binary or is_binary(line.text))
        self.binary_entries += started.binary
        self._lines = 1
        self._bytes = line.end - line.offset
        return released

    def flush(self) -> Assembled | None:
        """Release the pending entry (end of input, or idle)."""
        pending, self._pending = self._pending, None
        self._lines = self._bytes = 0
        return pending
