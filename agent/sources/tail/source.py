"""What to follow for one server (built once from the config, at the edge)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from agent.parse.reader import ReaderOptions


class ReadFrom(StrEnum):
    """Where reading starts in a file the agent has never seen.

    Used only on first install (no checkpoint at all for the server): the default END
    keeps an old 2 GB log from being shipped by surprise. Files that appear while the
    agent runs, or while it was stopped after it had run, are always read from the
    beginning so nothing written to them is lost.
    """

    BEGINNING = "beginning"
    END = "end"


@dataclass(frozen=True, slots=True)
class ServerSource:
    """One followed log: ``path`` is ``logs/latest.log``, ``server.log`` or ``proxy.log.0``."""

    server_id: str
    path: Path
    read_from: ReadFrom = ReadFrom.END
    options: ReaderOptions = field(default_factory=ReaderOptions)
