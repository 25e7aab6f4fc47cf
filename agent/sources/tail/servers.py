"""The servers the configured sources stand for, as they appear and go away.

A source whose ``path`` has no wildcard is one server for the tailer's whole life (its
file may not exist yet). A glob source (agent/sources/globs.py) stands for every file it
matches *now*; :meth:`ServerSet.scan` is called at start and then on every rescan (a
directory event under the glob's fixed root, or the periodic tick), and says which
servers to start and which to release:

* **found**: a match not followed yet. At start it begins where ``read_from`` says (as a
  configured server would); later it is a server that appeared while the agent ran, so
  it is read from the beginning of its first file (nothing it wrote is skipped). A
  server that comes back after being released resumes from its saved checkpoint: the
  follower looks for one first.
* **released**: a followed glob server whose folder (the directory of its log) is gone.
  A file missing from a folder that is still there is only a rotation in progress, or a
  server not started: it stays followed.
* **clash**: a match whose filled id another server already has. The server followed
  first keeps it (those already followed, then tables in config order, then paths
  sorted); the other is logged once and not followed.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agent import events
from agent.sources import globs
from agent.sources.globs import Match
from agent.sources.tail.source import ReadFrom, ServerSource

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Changes:
    """What a scan found: servers to start following, server ids to release."""

    found: list[ServerSource] = field(default_factory=list)
    released: list[str] = field(default_factory=list)


class ServerSet:
    """The configured sources, expanded; remembers what it handed out."""

    def __init__(self, configured: Sequence[ServerSource]) -> None:
        self._configured = list(configured)
        self._tables = [(source.server_id, source.path) for source in configured]
        self._current: dict[str, Match] = {}
        self._reported: set[tuple[str, Path]] = set()
        self._scanned = False

    @property
    def dynamic(self) -> bool:
        """True when a source is a glob (servers may appear and go: rescans are needed)."""
        return any(globs.is_glob(path) for _, path in self._tables)

    @property
    def roots(self) -> list[Path]:
        """The fixed directories above the globs' wildcards (watched for new servers)."""
        return sorted({globs.static_root(path) for _, path in self._tables if globs.is_glob(path)})

    def scan(self) -> Changes:
        """Compare what the sources stand for now with what was handed out."""
        expansion = globs.expand(self._tables, first=list(self._current.values()))
        self._report(expansion)
        now = {match.server_id: match for match in expansion.matches}
        changes = Changes()
        for server_id, match in list(self._current.items()):
            if server_id not in now and not match.path.parent.is_dir():
                del self._current[server_id]
                changes.released.append(server_id)
                log.info(
                    "%s: %s: %s is gone; released (checkpoints kept)",
                    events.SERVER_RELEASED,
                    server_id,
                    match.path.parent,
                )
        for server_id, match in now.items():
            if server_id not in self._current:
                self._current[server_id] = match
                changes.found.append(self._source(match))
        self._scanned = True
        return changes

    def _source(self, match: Match) -> ServerSource:
        configured = self._configured[match.table]
        if not globs.is_glob(configured.path):
            return configured
        # After start, a server that appears is read from its beginning (module docstring).
        read_from = configured.read_from if not self._scanned else ReadFrom.BEGINNING
        log.info(
            "%s: %s: %s matches %s",
            events.SERVER_FOUND,
            match.server_id,
            match.path,
            configured.path,
        )
        return dataclasses.replace(
            configured, server_id=match.server_id, path=match.path, read_from=read_from
        )

    def _report(self, expansion: globs.Expansion) -> None:
        """Log each clash and unusable id once (not at every rescan)."""
        seen: set[tuple[str, Path]] = set()
        for clash in expansion.clashes:
            key = (clash.dropped.server_id, clash.dropped.path)
            seen.add(key)
            if key not in self._reported:
                log.error(
                    "%s: %s: %s gets the id of %s, which is followed; %s is not followed",
                    events.SERVER_ID_CLASH,
                    clash.dropped.server_id,
                    clash.dropped.path,
                    clash.kept.path,
                    clash.dropped.path,
                )
        for match in expansion.invalid:
            key = (match.server_id, match.path)
            seen.add(key)
            if key not in self._reported:
                log.error(
                    "%s: %r (from %s) is not a valid server id (%s); not followed",
                    events.SERVER_ID_INVALID,
                    match.server_id,
                    match.path,
                    globs.SERVER_ID_PATTERN,
                )
        self._reported = seen
