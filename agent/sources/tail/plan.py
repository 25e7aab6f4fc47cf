"""Where a saved checkpoint's file is now, and what must be read after it.

:func:`locate` is used at start (the checkpoint may be in ``latest.log`` or, if the
server rotated while the agent was stopped, in any rolled file) and after a live
rotation (the finished file's rolled name is searched, so files rolled in between are
not skipped).

Tie-break when several files match the fingerprint (identical first bytes, see
agent/parse/fingerprint.py): the live file wins if it matches, is at least as long as the
offset and has a line end just before it (the common case: the agent restarted, no
rotation); otherwise the newest matching rolled file wins. A wrong pick can then only
repeat or skip files whose first 4 KiB are identical, which is documented as a limit.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from agent import events
from agent.model import Checkpoint
from agent.parse.fingerprint import fingerprint_length, matches
from agent.sources.tail.discovery import RotatedFile, read_head, rotated_files

log = logging.getLogger(__name__)


class Found(Enum):
    """Where the checkpoint's file was found."""

    LIVE = "live"  # still the followed path: resume there
    ROTATED = "rotated"  # a rolled file: finish it, then newer rolled files, then live
    TRUNCATED = "truncated"  # the live file, but shorter than the offset: restart at 0
    LOST = "lost"  # nowhere: its unread rest is gone; live is read from 0


@dataclass(frozen=True, slots=True)
class Segment:
    """A rolled file to read from ``offset`` to its end."""

    rotated: RotatedFile
    offset: int


@dataclass(frozen=True, slots=True)
class Resume:
    """The outcome of :func:`locate`: rolled files to read first, then the live offset."""

    found: Found
    backlog: list[Segment] = field(default_factory=list)
    live_offset: int = 0


def locate(checkpoint: Checkpoint, live: Path, *, include_live: bool) -> Resume:
    """Find the file ``checkpoint`` belongs to and list what is unread after it."""
    length = fingerprint_length(checkpoint.fingerprint)
    live_state = _live_match(checkpoint, live, length) if include_live else None
    if live_state == "resume":
        return Resume(Found.LIVE, [], checkpoint.offset)
    rolled = rotated_files(live)
    for index in range(len(rolled) - 1, -1, -1):
        head = read_head(rolled[index], length)
        if head is not None and matches(checkpoint.fingerprint, head):
            backlog = [Segment(rolled[index], checkpoint.offset)]
            backlog += [Segment(newer, 0) for newer in rolled[index + 1 :]]
            return Resume(Found.ROTATED, backlog, 0)
    if live_state == "shorter":
        return Resume(Found.TRUNCATED, [], 0)
    return Resume(Found.LOST, [], 0)


def _live_match(checkpoint: Checkpoint, live: Path, length: int) -> str | None:
    """'resume' if the live file is the checkpoint's, 'shorter' if it is but truncated."""
    try:
        fd = os.open(live, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not matches(checkpoint.fingerprint, os.pread(fd, length, 0)):
            return None
        size = os.fstat(fd).st_size
        if size < checkpoint.offset:
            return "shorter"
        offset = checkpoint.offset
        if offset > 0 and os.pread(fd, 1, offset - 1) != b"\n":
            return None  # same head, but the offset is not a line end: another file
        return "resume"
    except OSError:
        return None
    finally:
        os.close(fd)


def announce(resume: Resume, server_id: str, path: Path, saved: Checkpoint) -> None:
    """Log where a follower resumes when it is not the live file at the saved offset."""
    if resume.found is Found.ROTATED:
        names = ", ".join(seg.rotated.path.name for seg in resume.backlog)
        log.info(
            "%s: %s: checkpoint found in rolled file; reading %s, then %s",
            events.FILE_RESUMED,
            server_id,
            names,
            path,
        )
    elif resume.found is Found.TRUNCATED:
        log.warning(
            "%s: %s: %s is shorter than the saved offset %d; reading it from 0",
            events.FILE_TRUNCATED,
            server_id,
            path,
            saved.offset,
        )
    else:
        log.warning(
            "%s: %s: the file of the saved checkpoint (offset %d) is gone; its unread "
            "rest cannot be read; reading %s from 0",
            events.FILE_LOST,
            server_id,
            saved.offset,
            path,
        )
