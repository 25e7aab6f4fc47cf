"""One source stream's bytes in, complete entries out: lines -> headers -> entries.

INTERFACE (minimal implementation; multi-line limits, dates and fields are being
completed). One :class:`EntryReader` per source file. The caller feeds the bytes it
reads from ``start_offset`` on; ``committed_offset`` is always the end of the last
entry returned, which is the checkpoint those entries complete.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.lines import DEFAULT_MAX_LINE_BYTES, LineSplitter
from agent.minecraft import classify, parse_header
from agent.model import Entry, RawLine


@dataclass(slots=True, frozen=True)
class ReaderOptions:
    """How a source is read (parsed once from the config, at the edge)."""

    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    fallback_encoding: str | None = None
    idle_flush_seconds: float = 1.0  # a pending entry is released after this long idle


class EntryReader:
    """Incremental reader of one source stream."""

    def __init__(
        self,
        *,
        server_id: str,
        fingerprint: str,
        start_offset: int = 0,
        options: ReaderOptions | None = None,
    ) -> None:
        self.options = options or ReaderOptions()
        self.server_id = server_id
        self.fingerprint = fingerprint
        self._splitter = LineSplitter(
            start_offset=start_offset,
            max_line_bytes=self.options.max_line_bytes,
            fallback_encoding=self.options.fallback_encoding,
        )
        self._committed = start_offset
        self._pending: list[RawLine] = []
        self._pending_since = 0.0

    @property
    def committed_offset(self) -> int:
        """End of the last entry returned: the checkpoint offset."""
        return self._committed

    def feed(self, data: bytes, now: float = 0.0) -> list[Entry]:
        """Add bytes; return the entries completed by them (the last one may stay pending)."""
        entries: list[Entry] = []
        for line in self._splitter.feed(data):
            if self._pending and parse_header(line.text) is not None:
                entries.append(self._release())
            self._pending.append(line)
            self._pending_since = now
        return entries

    def flush_idle(self, now: float) -> list[Entry]:
        """Release the pending entry if no line was added for ``idle_flush_seconds``."""
        if self._pending and now - self._pending_since >= self.options.idle_flush_seconds:
            return [self._release()]
        return []

    def finish(self) -> list[Entry]:
        """End of a finished stream: release everything, a partial last line included."""
        self._pending += self._splitter.finish()
        return [self._release()] if self._pending else []

    def _release(self) -> Entry:
        lines, self._pending = self._pending, []
        header = parse_header(lines[0].text)
        message = header.message if header else lines[0].text
        event = classify(message, header.level if header else None)
        entry = Entry(
            server_id=self.server_id,
            fingerprint=self.fingerprint,
            offset=lines[0].offset,
            end=lines[-1].end,
            message="\n".join([message, *(line.text for line in lines[1:])]),
            line="\n".join(line.text for line in lines),
            log_level=header.level if header else None,
            thread=header.thread if header else None,
            tags=event.tags,
            fields=event.fields,
        )
        self._committed = entry.end
        return entry
