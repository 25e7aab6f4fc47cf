"""Filters, level mapping and IP privacy: pure decisions, tested as tables."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.encode.filters import EntryFilter, FilterReason
from agent.encode.privacy import apply_ip_policy, hash_ip, load_or_create_key
from agent.model import Entry
from agent.parse.levels import to_api_level

T0 = datetime(2026, 11, 21, 18, 0, 0, tzinfo=UTC)


def entry(
    message: str = "Steve was slain by Zombie",
    tags: tuple[str, ...] = ("timestamp", "death"),
    level: str | None = "INFO",
    timestamp: datetime | None = T0,
    offset: int = 0,
) -> Entry:
    return Entry(
        server_id="survival",
        fingerprint="f" * 32,
        offset=offset,
        end=offset + 10,
        message=message,
        line=message,
        timestamp=timestamp,
        log_level=level,
        tags=list(tags),
    )


@pytest.mark.parametrize(
    ("level", "api"),
    [
        ("INFO", "info"),
        ("WARN", "warn"),
        ("WARNING", "warn"),
        ("SEVERE", "error"),
        ("FATAL", "error"),
        ("FINEST", "debug"),
        ("TRACE", "debug"),
        ("信息", "info"),
        ("警告", "warn"),
        ("严重", "error"),
        ("warning", "warn"),
        ("NOISE", "info"),
        (None, "info"),
    ],
)
def test_level_mapping(level: str | None, api: str) -> None:
    """Every level a server writes maps onto debug/info/warn/error; unknown is info."""
    assert to_api_level(level) == api


@pytest.mark.parametrize(
    ("settings", "item", "reason"),
    [
        ({}, entry(), None),
        ({"include_tags": ["chat"]}, entry(), FilterReason.TAG_NOT_INCLUDED),
        ({"include_tags": ["chat", "death"]}, entry(), None),
        ({"exclude_tags": ["death"]}, entry(), FilterReason.TAG_EXCLUDED),
        ({"min_level": "warn"}, entry(level="INFO"), FilterReason.LEVEL),
        ({"min_level": "warn"}, entry(level="SEVERE"), None),
        ({"exclude_patterns": [r"slain by \w+"]}, entry(), FilterReason.PATTERN),
        ({"query": "ZOMBIE"}, entry(), None),
        ({"query": "creeper"}, entry(), FilterReason.QUERY),
        ({"since": T0}, entry(), None),
        (
            {"since": T0},
            entry(timestamp=datetime(2026, 11, 21, 17, 59, 59, tzinfo=UTC)),
            FilterReason.TIME,
        ),
        ({"before": T0}, entry(), FilterReason.TIME),
        ({"since": T0}, entry(timestamp=None), FilterReason.TIME),
        (
            {"performance_sample_rate": 0.0},
            entry(tags=("performance", "overloaded")),
            FilterReason.SAMPLED,
        ),
        ({"performance_sample_rate": 0.0}, entry(), None),
    ],
)
def test_filter_table(settings: dict, item: Entry, reason: FilterReason | None) -> None:
    """One row per rule: the entry is sent (None) or skipped for the stated reason."""
    assert EntryFilter.create(**settings).reason_to_skip(item) == reason


def test_sampling_keeps_about_the_rate_and_is_deterministic() -> None:
    """Sampling keeps roughly the configured fraction, the same entries every time."""
    rule = EntryFilter.create(performance_sample_rate=0.25)
    entries = [entry(tags=("performance",), offset=i * 97) for i in range(4000)]
    kept = [e.offset for e in entries if rule.reason_to_skip(e) is None]
    assert 800 < len(kept) < 1200
    assert kept == [e.offset for e in entries if rule.reason_to_skip(e) is None]


@pytest.mark.parametrize(
    "settings",
    [
        {"include_tags": ["chatt"]},
        {"min_level": "verbose"},
        {"since": datetime(2026, 1, 1)},
        {"performance_sample_rate": 1.5},
    ],
)
def test_invalid_settings_are_rejected(settings: dict) -> None:
    """Unknown tags or levels, naive datetimes and bad rates are errors at build time."""
    with pytest.raises(ValueError):
        EntryFilter.create(**settings)


class TestIpPolicy:
    def test_keep_hash_drop(self, tmp_path: Path) -> None:
        """keep leaves fields alone; hash is stable per key; drop removes ip and port."""
        fields = {"username": "Steve", "ip": "192.0.2.7", "port": 52850}
        key = load_or_create_key(tmp_path)
        assert apply_ip_policy(fields, "keep", None) is fields
        hashed = apply_ip_policy(fields, "hash", key)
        assert hashed["ip"] == hash_ip("192.0.2.7", key) != "192.0.2.7"
        assert hashed["ip"].startswith("h:") and hashed["port"] == 52850
        assert apply_ip_policy(fields, "drop", None) == {"username": "Steve"}
        assert fields["ip"] == "192.0.2.7"

    def test_key_is_private_and_persistent(self, tmp_path: Path) -> None:
        """The hashing key is created once, mode 0600, and reused."""
        key = load_or_create_key(tmp_path)
        mode = stat.S_IMODE((tmp_path / "ip-hash.key").stat().st_mode)
        assert mode == 0o600
        assert load_or_create_key(tmp_path) == key
        assert hash_ip("192.0.2.7", key) != hash_ip("192.0.2.7", b"other")
