"""Globbed server logs: a ``log`` whose directories hold ``*``, and ``id`` templates.

One ``[[servers]]`` table may stand for every server a hosting panel lays out::

    id = "{1}"
    log = "/var/lib/pterodactyl/volumes/*/logs/latest.log"

Rules (checked at load by :func:`check_pattern`, so a mistake is a config error):

* ``*`` is the only wildcard. It matches within one path component (never ``/``) and,
  as in the shell, not a name starting with ``.``. ``**``, ``?`` and ``[...]`` are
  refused: recursive matching would walk whole volumes, and one wildcard keeps the
  numbering of ``{N}`` obvious.
* Wildcards may only be in the directories, not in the file name: ``log`` names the
  live file, whose rolled siblings are found by Minecraft's naming rules.
* ``{N}`` in ``id`` is what the N-th ``*`` (counted from the left, from 1) matched;
  other characters are literal. A glob's id must use at least one ``{N}`` (otherwise
  every match would have the same id), and every ``{N}`` must name an existing ``*``.
  The filled id must be a valid server id (:data:`SERVER_ID_PATTERN`).

Matching order is deterministic (tables in config order, paths sorted), so when two
matches get the same id the first one in that order wins (:func:`expand`).
Pure except :func:`expand`, which lists the filesystem.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SERVER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
_SERVER_ID = re.compile(SERVER_ID_PATTERN)
_PLACEHOLDER = re.compile(r"\{(\d+)\}")
_REFUSED = ("**", "?", "[", "]")


def is_glob(log: Path | str) -> bool:
    """True when ``log`` has a wildcard."""
    return "*" in str(log)


def is_template(server_id: str) -> bool:
    """True when ``server_id`` holds a ``{N}`` placeholder."""
    return _PLACEHOLDER.search(server_id) is not None


def check_pattern(server_id: str, log: Path | str) -> None:
    """Raise ValueError (a message naming ``id`` or ``log``) if the pair is not valid."""
    text = str(log)
    for refused in _REFUSED:
        if refused in text:
            raise ValueError(f"log: {refused!r} is not supported; * is the only wildcard")
    if "*" in Path(text).name:
        raise ValueError("log: a wildcard in the file name is not supported (only in folders)")
    wildcards = text.count("*")
    numbers = [int(n) for n in _PLACEHOLDER.findall(server_id)]
    if wildcards and not numbers:
        raise ValueError(
            f"id: {server_id!r} has no {{N}} but log is a glob; every match would get it"
        )
    for number in numbers:
        if not 1 <= number <= wildcards:
            raise ValueError(
                f"id: {{{number}}} refers to a wildcard log does not have ({wildcards} *)"
            )
    if not _SERVER_ID.match(_PLACEHOLDER.sub("x", server_id)):
        raise ValueError(f"id: {server_id!r} does not match {SERVER_ID_PATTERN}")


def fill(server_id: str, groups: Sequence[str]) -> str:
    """The id with each ``{N}`` replaced by ``groups[N-1]``."""
    return _PLACEHOLDER.sub(lambda m: groups[int(m.group(1)) - 1], server_id)


def valid_id(server_id: str) -> bool:
    """True when ``server_id`` is a usable server id (a filled template may not be)."""
    return _SERVER_ID.match(server_id) is not None


def static_root(log: Path | str) -> Path:
    """The deepest directory of ``log`` without a wildcard (what discovery watches)."""
    parts = Path(log).parts
    first_glob = next((i for i, part in enumerate(parts) if "*" in part), len(parts) - 1)
    return Path(*parts[:first_glob])


def _matcher(log: Path | str) -> re.Pattern[str]:
    pieces = str(log).split("*")
    return re.compile("([^/]*)".join(re.escape(piece) for piece in pieces) + r"\Z")


@dataclass(frozen=True, slots=True)
class Match:
    """One server a ``[[servers]]`` table stands for: its table, filled id and log path."""

    table: int
    server_id: str
    path: Path


@dataclass(frozen=True, slots=True)
class Clash:
    """A match whose id another match already has (``kept`` wins, ``dropped`` is not followed)."""

    kept: Match
    dropped: Match


@dataclass(frozen=True, slots=True)
class Expansion:
    """What :func:`expand` found: the matches to follow, clashes, and unusable ids."""

    matches: list[Match]
    clashes: list[Clash]
    invalid: list[Match]  # the filled id is not a valid server id


def expand(tables: Sequence[tuple[str, Path]], first: Sequence[Match] = ()) -> Expansion:
    """The servers ``tables`` (``(id, log)`` pairs, in config order) stand for now.

    A table without a wildcard is one server, whether its file exists or not (the server
    may not have started yet). A glob stands for every existing file it matches. On a
    clash the earlier match wins: those in ``first`` (the servers already followed),
    then tables in config order, then paths sorted.
    """
    taken: dict[str, Match] = {match.server_id: match for match in first}
    matches: list[Match] = []
    clashes: list[Clash] = []
    invalid: list[Match] = []
    for table, (server_id, log) in enumerate(tables):
        for match in _table_matches(table, server_id, log):
            kept = taken.get(match.server_id)
            if kept is not None and kept != match:
                clashes.append(Clash(kept, match))
            elif kept is None and not valid_id(match.server_id):
                invalid.append(match)
            else:
                taken[match.server_id] = match
                matches.append(match)
    return Expansion(matches, clashes, invalid)


def _table_matches(table: int, server_id: str, log: Path) -> list[Match]:
    if not is_glob(log):
        return [Match(table, server_id, log)]
    matcher = _matcher(log)
    found = []
    for name in sorted(glob.glob(str(log))):  # noqa: PTH207 (skips dot-names, as the shell)
        groups = matcher.match(name)
        if groups is not None:
            found.append(Match(table, fill(server_id, groups.groups()), Path(name)))
    return found
