"""Where a follower is, and why it waits (agent/sources/tail/follower.py's states)."""

from __future__ import annotations

from enum import Enum

from agent import events


class Phase(Enum):
    """Where a follower is (see agent/sources/tail/follower.py's docstring)."""

    OPENING = "opening"
    CATCH_UP = "catch-up"
    LIVE = "live"
    WAITING = "waiting"


class Waiting(Enum):
    """Why the live path could not be opened, as last logged (one message per change)."""

    NO = "no"
    MISSING = events.FILE_MISSING
    UNREADABLE = events.FILE_UNREADABLE
