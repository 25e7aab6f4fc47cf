"""Which entries are sent: one filter for the config's ``[filters]`` and the CLI's FILTERS.

Every entry costs quota, so operators filter by tag, level and pattern, and sample the
noisy ``performance`` lines. ``parse`` and ``backfill`` add the mc-coal query parameters
(``--tag``, ``-q``, ``--since`` inclusive, ``--before`` exclusive). Pure: a filter is built
once and asked about each entry; it returns why an entry is not sent (so the caller can
count it) or None to send it. A filtered entry still advances the checkpoint: it was
handled, by decision, and the count says so.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from agent.model import Entry, Tag
from agent.parse.levels import LEVEL_RANK, to_api_level


class FilterReason(StrEnum):
    """Why an entry was not sent (the label of the ``entries_filtered`` counter)."""

    TAG_NOT_INCLUDED = "tag_not_included"
    TAG_EXCLUDED = "tag_excluded"
    LEVEL = "level"
    PATTERN = "pattern"
    QUERY = "query"
    TIME = "time"
    SAMPLED = "sampled"


@dataclass(frozen=True, slots=True)
class EntryFilter:
    """The filter settings; build with :meth:`create`, ask with :meth:`reason_to_skip`."""

    include_tags: frozenset[str] = frozenset()
    exclude_tags: frozenset[str] = frozenset()
    min_level_rank: int = 0
    exclude_patterns: tuple[re.Pattern[str], ...] = ()
    query: str | None = None  # lower-cased
    since: datetime | None = None
    before: datetime | None = None
    performance_sample_rate: float = 1.0
    _active: bool = field(default=False, repr=False)

    @classmethod
    def create(
        cls,
        *,
        include_tags: Iterable[str] = (),
        exclude_tags: Iterable[str] = (),
        min_level: str = "debug",
        exclude_patterns: Iterable[str] = (),
        query: str | None = None,
        since: datetime | None = None,
        before: datetime | None = None,
        performance_sample_rate: float = 1.0,
    ) -> EntryFilter:
        """Validate and compile the settings (ValueError names the bad one)."""
        tags = {tag.value for tag in Tag}
        for name in (*include_tags, *exclude_tags):
            if name not in tags:
                raise ValueError(f"unknown tag {name!r} (known: {', '.join(sorted(tags))})")
        if min_level not in LEVEL_RANK:
            raise ValueError(f"unknown level {min_level!r} (known: {', '.join(LEVEL_RANK)})")
        for bound in (since, before):
            if bound is not None and bound.tzinfo is None:
                raise ValueError("since/before must carry a timezone")
        if not 0.0 <= performance_sample_rate <= 1.0:
            raise ValueError("performance_sample_rate must be between 0 and 1")
        built = cls(
            include_tags=frozenset(include_tags),
            exclude_tags=frozenset(exclude_tags),
            min_level_rank=LEVEL_RANK[min_level],
            exclude_patterns=tuple(re.compile(p) for p in exclude_patterns),
            query=query.lower() if query else None,
            since=since,
            before=before,
            performance_sample_rate=performance_sample_rate,
        )
        active = built != cls()
        object.__setattr__(built, "_active", active)
        return built

    def reason_to_skip(self, entry: Entry) -> FilterReason | None:
        """None to send the entry, else why it is not sent."""
        if not self._active:
            return None
        tags = entry.tags
        if self.include_tags and self.include_tags.isdisjoint(tags):
            return FilterReason.TAG_NOT_INCLUDED
        if self.exclude_tags and not self.exclude_tags.isdisjoint(tags):
            return FilterReason.TAG_EXCLUDED
        if self.min_level_rank and LEVEL_RANK[to_api_level(entry.log_level)] < self.min_level_rank:
            return FilterReason.LEVEL
        if self.since is not None or self.before is not None:
            stamp = entry.timestamp
            # An entry without a time cannot be shown to be inside the range.
            if stamp is None or (self.since is not None and stamp < self.since):
                return FilterReason.TIME
            if self.before is not None and stamp >= self.before:
                return FilterReason.TIME
        if self.query is not None and self.query not in entry.message.lower():
            return FilterReason.QUERY
        if any(pattern.search(entry.message) for pattern in self.exclude_patterns):
            return FilterReason.PATTERN
        if (
            self.performance_sample_rate < 1.0
            and Tag.PERFORMANCE in tags
            and not _sampled_in(entry, self.performance_sample_rate)
        ):
            return FilterReason.SAMPLED
        return None


def _sampled_in(entry: Entry, rate: float) -> bool:
    """Deterministic by source position, so re-reading a file makes the same choice."""
    key = f"{entry.server_id}\0{entry.fingerprint}\0{entry.offset}".encode()
    return zlib.crc32(key) < rate * 2**32
