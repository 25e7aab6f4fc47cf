"""What happens when reading a rotated live file to its end fails (an OSError).

The follower drains the old file before it switches to the new one (agent/sources/tail/
follower.py). If that read fails (an I/O error, a file system gone away), the failure is
logged with the path and offset (``file.drain_failed``) and the follower goes on with the
new file. Nothing is lost silently: the old file was renamed, not deleted, so its unread
rest is looked for among the rolled files by fingerprint and read from the last checkpoint
(``file.resumed``), as after a restart; the entry that was pending is read again there,
not finished early. Only if no rolled file holds it (deleted, or unreadable too) is what
was read finished and the rest reported lost with its offset (``file.lost``).
"""

from __future__ import annotations

import logging

from agent import events
from agent.model import Checkpoint
from agent.sources.tail.live import LiveFile
from agent.sources.tail.plan import Found, Segment, locate
from agent.sources.tail.source import ServerSource

log = logging.getLogger(__name__)


def rest_after_drain_failure(live: LiveFile, source: ServerSource, exc: OSError) -> list[Segment]:
    """Log the failure, close ``live``, and return the rolled files to read next (the
    failed file's rolled name from its checkpoint first); [] if its rest is lost."""
    committed = live.reader.committed_offset
    log.error(
        "%s: %s: reading rotated %s to its end failed at offset %d (%s)",
        events.FILE_DRAIN_FAILED,
        source.server_id,
        live.path,
        live.pos,
        exc.strerror or exc,
    )
    if live.fingerprint is not None:
        saved = Checkpoint(source.server_id, live.fingerprint, committed)
        resume = locate(saved, source.path, include_live=False)
        if resume.found is Found.ROTATED:
            live.close()  # not finished: the pending lines are read again from the rolled file
            log.warning(
                "%s: %s: the rest of %s (from offset %d) is read from %s",
                events.FILE_RESUMED,
                source.server_id,
                live.path,
                committed,
                resume.backlog[0].rotated.path,
            )
            return resume.backlog
    live.finish()  # what was read is delivered, a partial last line included
    log.error(
        "%s: %s: no rolled file holds the rest of %s: what followed offset %d cannot be "
        "read; following the new file",
        events.FILE_LOST,
        source.server_id,
        live.path,
        live.pos,
    )
    return []
