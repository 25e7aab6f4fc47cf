"""Plain data passed between the stages. No I/O and no imports from other agent modules.

Data flows one way: ``lines`` produces :class:`RawLine`, the parser and the multi-line
assembler turn them into :class:`Entry`, the spool stores entries together with the
:class:`Checkpoint` they complete, and the uploader ships them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any


class Tag(StrEnum):
    """Tags of a log entry (the mc-coal taxonomy plus ``advancement``, see shared/PARSING.md)."""

    UNKNOWN = "unknown"
    TIMESTAMP = "timestamp"
    CONNECTION = "connection"
    LOGIN = "login"
    LOGOUT = "logout"
    CHAT = "chat"
    DEATH = "death"
    SERVER = "server"
    PERFORMANCE = "performance"
    OVERLOADED = "overloaded"
    STOPPING = "stopping"
    STARTING = "starting"
    ADVANCEMENT = "advancement"


class Decoding(Enum):
    """How a line's bytes became text."""

    UTF8 = "utf-8"
    FALLBACK = "fallback"  # the source's fallback encoding (cp1252, gbk, ...) decoded it
    REPLACED = "replaced"  # neither did: undecodable bytes became U+FFFD


@dataclass(slots=True)
class RawLine:
    """One complete line of a source, decoded, without its line terminator.

    ``offset`` is the byte offset of the line's first byte in the source stream (the
    decompressed stream for ``.gz``); ``end`` is the offset just after its ``\\n``, so
    ``end`` of the last line of an entry is the checkpoint that entry completes.
    """

    offset: int
    end: int
    text: str
    truncated: bool = False  # the line was longer than the maximum; text holds its head
    decoding: Decoding = Decoding.UTF8
    control_chars: int = 0  # NUL characters replaced by U+FFFD (see agent/parse/lines.py)


@dataclass(slots=True, frozen=True)
class Checkpoint:
    """Where reading a source stands: the end of the last complete entry handed on.

    The tailer never advances a checkpoint itself; the spool stores it in the same
    transaction as the entries read up to it (shared/DESIGN.md, invariant 2).
    """

    server_id: str
    fingerprint: str
    offset: int
    # A narrower fingerprint of the same file whose stored row this checkpoint replaces:
    # the file grew past the bytes that one covered (agent/parse/fingerprint.py). Not
    # stored; without it a short file left a row behind for every line it grew by.
    replaces: str | None = None


@dataclass(slots=True)
class Entry:
    """One log entry: a prefixed line plus the continuation lines attached to it.

    ``fields`` holds the parsed fields under their API names (``username``, ``uuid``,
    ``ip``, ``port``, ``location``, ``chat``, ``death``, ``entity``, ``version``,
    ``lag_ms``, ``lag_ticks``, ``advancement`` ...); absent fields are absent keys.
    """

    server_id: str
    fingerprint: str
    offset: int  # byte offset of the entry's first line
    end: int  # byte offset just after the entry's last line
    message: str  # the message without the line prefix; continuation lines joined by "\n"
    line: str  # the raw text of the entry's lines joined by "\n"
    timestamp: datetime | None = None  # timezone-aware UTC
    log_level: str | None = None  # as the server wrote it: INFO, WARN, WARNING, SEVERE ...
    thread: str | None = None
    logger: str | None = None
    tags: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    truncated: bool = False  # a line of the entry, or the entry itself, was cut at a limit
    decoding: Decoding = Decoding.UTF8  # the worst decoding of the entry's lines
    control_chars: int = 0  # NUL characters replaced by U+FFFD in the entry's lines
    binary: bool = False  # mostly non-printable continuation lines, kept apart (multiline.py)
