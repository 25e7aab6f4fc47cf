"""Minecraft log-file names and what they mean (agent/sources/logfiles.py): tables, no files."""

from __future__ import annotations

from datetime import date
from pathlib import Path, PurePath

import pytest

from agent.sources.logfiles import (
    DatedName,
    NumberedName,
    compressed_name,
    date_of,
    dated,
    is_log_name,
    numbered,
    plain_name,
    prefer_plain,
    rolled_siblings,
    sort_key,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("2026-11-21-3.log.gz", date(2026, 11, 21)),
        ("/srv/mc/logs/2024-02-29-1.log", date(2024, 2, 29)),
        ("survival-2026-11-21-1.log.gz", date(2026, 11, 21)),  # a copy renamed by hand
        ("latest.log", None),
        ("2026-13-01-1.log.gz", None),  # no such month
        ("2025-02-29-1.log", None),  # no such day
        ("server.log", None),
        ("2026-11-21.log", None),  # no roll number
        ("2026-11-21-1.log.bak", None),
    ],
)
def test_date_of(name: str, expected: date | None) -> None:
    """Only a name ending in log4j's YYYY-MM-DD-N.log(.gz) with a real date gives a date."""
    assert date_of(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("2026-11-21-3.log", DatedName(2026, 11, 21, 3, compressed=False)),
        ("2026-11-21-10.log.gz", DatedName(2026, 11, 21, 10, compressed=True)),
        ("2026-13-01-1.log.gz", DatedName(2026, 13, 1, 1, compressed=True)),  # day is None
        ("survival-2026-11-21-1.log.gz", None),  # not a sibling of latest.log
        ("debug-1.log.gz", None),
        ("latest.log", None),
    ],
)
def test_dated(name: str, expected: DatedName | None) -> None:
    """The bare rolled name is parsed into its date, roll number and compression."""
    assert dated(name) == expected


def test_dated_name_with_impossible_date_has_no_day() -> None:
    """A rolled name with month 13 still sorts, but has no day."""
    found = dated("2026-13-01-1.log")
    assert found is not None and found.day is None and found.order == (2026, 13, 1, 1)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("proxy.log.0", NumberedName("proxy.log", 0)),
        ("proxy.log.12", NumberedName("proxy.log", 12)),
        ("proxy.log.0.lck", None),
        ("server.log", None),
        (".3", None),
    ],
)
def test_numbered(name: str, expected: NumberedName | None) -> None:
    """``<base>.N`` is parsed into its base and number; other names are not numbered."""
    assert numbered(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("latest.log", True),
        ("2026-11-21-1.log.gz", True),
        ("proxy.log.3", True),
        ("server.log", True),
        ("console.txt", True),
        ("notes.md", False),
        ("proxy.log.0.lck", False),
        ("world.tar.gz", False),
    ],
)
def test_is_log_name(name: str, expected: bool) -> None:
    """Log directories hold logs as .log, .log.gz, .log.N and .txt."""
    assert is_log_name(name) is expected


def test_compressed_and_plain_names() -> None:
    """log4j2 gzips X to X.gz; a .gz name gives back its plain name, others None."""
    assert compressed_name("2026-11-21-1.log") == "2026-11-21-1.log.gz"
    assert plain_name("2026-11-21-1.log.gz") == "2026-11-21-1.log"
    assert plain_name("2026-11-21-1.log") is None


def test_prefer_plain_drops_gz_whose_plain_file_is_listed() -> None:
    """X.log.gz is dropped when X.log (same directory) is listed; alone it stays."""
    paths = [Path("a/1.log"), Path("a/1.log.gz"), Path("b/1.log.gz"), Path("a/2.log.gz")]
    assert prefer_plain(paths) == [Path("a/1.log"), Path("b/1.log.gz"), Path("a/2.log.gz")]


def test_sort_key_orders_chronologically() -> None:
    """Dated by date then N (10 after 9), numbered by N descending, others, latest last."""
    names = [
        "latest.log",
        "server.log",
        "2026-11-01-10.log.gz",
        "proxy.log.0",
        "2026-11-01-9.log",
        "proxy.log.1",
        "2025-12-31-1.log",
    ]
    ordered = sorted((PurePath("logs") / n for n in names), key=sort_key)
    assert [p.name for p in ordered] == [
        "2025-12-31-1.log",
        "2026-11-01-9.log",
        "2026-11-01-10.log.gz",
        "proxy.log.1",
        "proxy.log.0",
        "server.log",
        "latest.log",
    ]


@pytest.mark.parametrize(
    ("followed", "names", "expected"),
    [
        (
            "latest.log",
            ["latest.log", "2026-11-21-10.log.gz", "2026-11-21-9.log.gz", "2026-11-20-3.log.gz"],
            ["2026-11-20-3.log.gz", "2026-11-21-9.log.gz", "2026-11-21-10.log.gz"],
        ),
        (  # log4j2 still compressing: the complete plain file is the one
            "latest.log",
            ["2026-11-21-1.log.gz", "2026-11-21-1.log"],
            ["2026-11-21-1.log"],
        ),
        (
            "latest.log",
            ["debug.log", "debug-1.log.gz", "2026-11-21.log", "latest.log.bak"],
            [],
        ),
        (
            "proxy.log.0",
            ["proxy.log.0", "proxy.log.1", "proxy.log.10", "proxy.log.2", "proxy.log.0.lck"],
            ["proxy.log.10", "proxy.log.2", "proxy.log.1"],
        ),
        ("proxy.log.0", ["other.log.1", "proxy.log.0"], []),
        ("proxy.log.1", ["proxy.log.0", "proxy.log.2"], []),  # not the current file
        ("server.log", ["server.log", "server.log.1"], []),  # pre-1.7: never rotated
    ],
)
def test_rolled_siblings(followed: str, names: list[str], expected: list[str]) -> None:
    """Which names in a followed file's directory are its rolled files, oldest first."""
    assert rolled_siblings(followed, names) == expected
