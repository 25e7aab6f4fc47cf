"""Backfill file selection and order, and the FILTERS option parsing (pure or tmp_path)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.app.config import FiltersConfig
from agent.backfill.files import PathError, expand, order
from agent.cli.filters import QueryFilters, build_filter, parse_time
from agent.encode.filters import FilterReason
from agent.model import Entry


def test_order_dated_by_date_then_index_latest_last() -> None:
    """YYYY-MM-DD-N by date then N (10 after 9), numbered files by N descending, latest last."""
    names = [
        "latest.log",
        "2026-11-02-1.log.gz",
        "2026-11-01-10.log.gz",
        "2026-11-01-9.log.gz",
        "server.log",
        "proxy.log.0",
        "proxy.log.2",
        "proxy.log.1",
        "2025-12-31-1.log",
    ]
    ordered = [p.name for p in order([Path("logs") / n for n in names])]
    assert ordered == [
        "2025-12-31-1.log",
        "2026-11-01-9.log.gz",
        "2026-11-01-10.log.gz",
        "2026-11-02-1.log.gz",
        "proxy.log.2",
        "proxy.log.1",
        "proxy.log.0",
        "server.log",
        "latest.log",
    ]


def test_expand_directory_glob_and_dedup(tmp_path: Path) -> None:
    """A directory gives its log files (not other files); a glob and a repeat add nothing twice."""
    for name in ("2026-11-01-1.log.gz", "latest.log", "notes.md", "2026-11-02-1.log"):
        (tmp_path / name).write_bytes(b"x\n")
    (tmp_path / "2026-11-02-1.log.gz").write_bytes(b"half written")
    files = expand([str(tmp_path), str(tmp_path / "*.gz"), str(tmp_path / "latest.log")])
    assert [p.name for p in files] == ["2026-11-01-1.log.gz", "2026-11-02-1.log", "latest.log"]


@pytest.mark.parametrize("argument", ["missing.log", "*.nothing", "emptydir"])
def test_expand_rejects_paths_naming_nothing(tmp_path: Path, argument: str) -> None:
    """A missing path, a glob matching nothing or a directory without logs is a PathError."""
    (tmp_path / "emptydir").mkdir()
    with pytest.raises(PathError, match=r"no "):
        expand([str(tmp_path / argument)])


def test_parse_time_utc_form_and_iso_with_zone() -> None:
    """'YYYY-MM-DD HH:MM:SS' is UTC; ISO 8601 with an offset is converted to UTC."""
    assert parse_time("2026-11-21 18:03:12") == datetime(2026, 11, 21, 18, 3, 12, tzinfo=UTC)
    assert parse_time("2026-11-21T19:03:12+01:00") == datetime(2026, 11, 21, 18, 3, 12, tzinfo=UTC)
    assert parse_time("2026-11-21T18:03:12Z") == datetime(2026, 11, 21, 18, 3, 12, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2026-11-21T18:03:12", "yesterday", "2026-13-01 00:00:00"])
def test_parse_time_rejects_zoneless_iso_and_garbage(text: str) -> None:
    """An ISO time without a zone is ambiguous; other text is not a time."""
    with pytest.raises(ValueError):
        parse_time(text)


def _entry(message: str, tags: list[str], stamp: datetime | None) -> Entry:
    return Entry("s", "f", 0, 1, message, message, stamp, "INFO", tags=tags)


def test_build_filter_since_inclusive_before_exclusive_tag_and_query() -> None:
    """--since is inclusive, --before exclusive; --tag any-of; -q case-insensitive text."""
    since, before = "2026-11-21 00:00:00", "2026-11-22 00:00:00"
    chosen = build_filter(QueryFilters(("death",), "zombie", since, before))
    day = datetime(2026, 11, 21, tzinfo=UTC)
    nextday = datetime(2026, 11, 22, tzinfo=UTC)
    assert chosen.reason_to_skip(_entry("Steve was slain by Zombie", ["death"], day)) is None
    late = _entry("Steve was slain by Zombie", ["death"], nextday)
    assert chosen.reason_to_skip(late) is FilterReason.TIME
    chat = _entry("<Steve> zombie", ["chat"], day)
    assert chosen.reason_to_skip(chat) is FilterReason.TAG_NOT_INCLUDED
    other = _entry("Steve fell", ["death"], day)
    assert chosen.reason_to_skip(other) is FilterReason.QUERY


def test_build_filter_keeps_config_exclusions_and_rejects_bad_values() -> None:
    """The config's exclude_tags still apply; an unknown tag or an empty range is an error."""
    merged = build_filter(QueryFilters(), FiltersConfig(exclude_tags=["chat"]))
    assert merged.reason_to_skip(_entry("<a> b", ["chat"], None)) is FilterReason.TAG_EXCLUDED
    with pytest.raises(ValueError, match="--tag"):
        build_filter(QueryFilters(("nosuchtag",)))
    with pytest.raises(ValueError, match="--before"):
        build_filter(QueryFilters(since="2026-11-22 00:00:00", before="2026-11-21 00:00:00"))
