"""The FILTERS options shared by ``parse`` and ``backfill``: the mc-coal log-line query.

``--tag TAG`` (repeatable: an entry with any of them passes), ``-q TEXT`` (text search in
the message, case-insensitive), ``--since T`` (inclusive) and ``--before T`` (exclusive).
A time is ``YYYY-MM-DD HH:MM:SS`` in UTC or an ISO 8601 time with a zone. Bad values are
usage errors (exit 2). The options become one :class:`~agent.encode.filters.EntryFilter`, merged
with the config's ``[filters]`` when there is a config: the ONE filter implementation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import typer

from agent.app.config import FiltersConfig
from agent.encode.filters import EntryFilter
from agent.model import Tag

_UTC_FORMAT = "%Y-%m-%d %H:%M:%S"

# --tag takes a str, not the Tag enum: EntryFilter.create checks tags for the options and
# the config's [filters] alike (one check, one "unknown tag" message); the help lists them.
TagOption = Annotated[
    list[str] | None,
    typer.Option(
        "--tag",
        metavar="TAG",
        help="Only entries with this tag (repeatable: any of them); one of "
        f"{', '.join(tag.value for tag in Tag)}.",
    ),
]
QueryOption = Annotated[
    str | None,
    typer.Option(
        "-q",
        "--query",
        metavar="TEXT",
        help="Only entries whose message contains TEXT (case-insensitive).",
    ),
]
SinceOption = Annotated[
    str | None,
    typer.Option(
        metavar="T",
        help="Entries at or after T ('YYYY-MM-DD HH:MM:SS' UTC, or ISO 8601 + zone).",
    ),
]
BeforeOption = Annotated[
    str | None,
    typer.Option(
        metavar="T", help="Entries before T ('YYYY-MM-DD HH:MM:SS' UTC, or ISO 8601 + zone)."
    ),
]


@dataclass(frozen=True, slots=True)
class QueryFilters:
    """The FILTERS options as given (strings), before validation."""

    tags: tuple[str, ...] = ()
    query: str | None = None
    since: str | None = None
    before: str | None = None


def parse_time(text: str) -> datetime:
    """``YYYY-MM-DD HH:MM:SS`` (UTC) or ISO 8601 with a zone -> aware UTC datetime.

    Raises ValueError for anything else (an ISO time without a zone is ambiguous).
    """
    try:
        return datetime.strptime(text, _UTC_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not 'YYYY-MM-DD HH:MM:SS' (UTC) or an ISO 8601 time with a zone"
        ) from None
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no zone (add Z or +HH:MM, or use 'YYYY-MM-DD HH:MM:SS')")
    return moment.astimezone(UTC)


def build_filter(query: QueryFilters, config: FiltersConfig | None = None) -> EntryFilter:
    """One EntryFilter from the FILTERS options and the config's ``[filters]`` (if any).

    ``--tag`` replaces the config's ``include_tags`` when given; the config's exclusions,
    minimum level, patterns and sampling still apply. Raises ValueError naming the option.
    """
    since = _time_option("--since", query.since)
    before = _time_option("--before", query.before)
    if since is not None and before is not None and before <= since:
        raise ValueError("--before must be later than --since")
    base = config or FiltersConfig()
    try:
        return EntryFilter.create(
            include_tags=query.tags or base.include_tags,
            exclude_tags=base.exclude_tags,
            min_level=base.min_level,
            exclude_patterns=base.exclude_patterns,
            query=query.query,
            since=since,
            before=before,
            performance_sample_rate=base.performance_sample_rate,
        )
    except ValueError as exc:
        raise ValueError(f"--tag: {exc}") from None


def _time_option(name: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_time(text)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
