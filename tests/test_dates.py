"""Date inference and UTC conversion: the clock, midnight, DST, formatting.

(The date in a rolled file's name: tests/test_logfiles.py.)"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from agent.parse.dates import (
    BACKWARDS_THRESHOLD,
    DateTracker,
    LocalToUtc,
    format_utc,
    format_utc_cached,
    load_timezone,
)

BERLIN = ZoneInfo("Europe/Berlin")
DAY = date(2026, 11, 21)


def tracker(zone=UTC, hint: date | None = DAY, now: datetime | None = None) -> DateTracker:
    """A tracker with a fixed clock."""
    stamp = (now or datetime(2026, 11, 21, 12, tzinfo=UTC)).timestamp()
    return DateTracker(LocalToUtc(zone), date_hint=hint, clock=lambda: stamp)


def test_load_timezone_rejects_unknown_names() -> None:
    """An unknown zone name is a ValueError naming it."""
    with pytest.raises(ValueError, match="Mars/Base"):
        load_timezone("Mars/Base")
    assert load_timezone("Europe/Berlin") == BERLIN


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 11, 21, 18, 3, 12, tzinfo=UTC), "2026-11-21T18:03:12Z"),
        (datetime(2026, 11, 21, 18, 3, 12, 123000, tzinfo=UTC), "2026-11-21T18:03:12.123Z"),
        (datetime(2026, 11, 21, 18, 3, 12, 123456, tzinfo=UTC), "2026-11-21T18:03:12.123456Z"),
        (datetime(2026, 11, 21, 19, 3, 12, tzinfo=BERLIN), "2026-11-21T18:03:12Z"),
    ],
)
def test_format_utc(moment: datetime, text: str) -> None:
    """UTC with Z; a fraction only when there is one; other zones converted."""
    assert format_utc(moment) == text
    assert format_utc_cached(moment) == text


@pytest.mark.parametrize("day", [DAY, date(1880, 1, 1)])  # 1880: Berlin's LMT, +0:53:28
def test_converter_seconds_match_zoneinfo(day: date) -> None:
    """The per-minute cache gives what zoneinfo gives, and pre-formats the right text."""
    converter = LocalToUtc(BERLIN)
    for second in (0, 1, 30, 59, 30):
        moment = converter.convert(day, (18, 3, second, 0))
        expected = datetime(day.year, day.month, day.day, 18, 3, second, tzinfo=BERLIN)
        assert moment == expected.astimezone(UTC)
        assert format_utc_cached(moment) == format_utc(expected)


class TestStartDate:
    def test_hint_wins(self) -> None:
        """A date hint (file name, --date) is the date of the first line."""
        assert tracker(hint=date(2020, 1, 2)).resolve(None, (5, 0, 0, 0)) == datetime(
            2020, 1, 2, 5, tzinfo=UTC
        )

    def test_clock_today(self) -> None:
        """Without a hint, the clock's date in the server's zone."""
        now = datetime(2026, 11, 21, 23, 30, tzinfo=UTC)  # already the 22nd in Berlin
        result = tracker(BERLIN, hint=None, now=now).resolve(None, (0, 10, 0, 0))
        assert result == datetime(2026, 11, 22, 0, 10, tzinfo=BERLIN)

    def test_line_far_ahead_of_now_is_yesterday(self) -> None:
        """latest.log read just after midnight: a 23:50 line belongs to yesterday."""
        now = datetime(2026, 11, 21, 0, 5, tzinfo=UTC)
        result = tracker(hint=None, now=now).resolve(None, (23, 50, 0, 0))
        assert result == datetime(2026, 11, 20, 23, 50, tzinfo=UTC)

    def test_line_slightly_ahead_is_clock_skew(self) -> None:
        """A line a few minutes ahead of the clock is still today."""
        now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
        result = tracker(hint=None, now=now).resolve(None, (12, 20, 0, 0))
        assert result == datetime(2026, 11, 21, 12, 20, tzinfo=UTC)


class TestSequence:
    def test_midnight(self) -> None:
        """23:59 then 00:01 is the next day."""
        t = tracker()
        t.resolve(None, (23, 59, 0, 0))
        assert t.resolve(None, (0, 1, 0, 0)) == datetime(2026, 11, 22, 0, 1, tzinfo=UTC)

    def test_small_step_back_stays_on_the_day(self) -> None:
        """An NTP step of a few minutes back is not a new day."""
        t = tracker()
        t.resolve(None, (12, 5, 0, 0))
        assert t.resolve(None, (12, 1, 0, 0)) == datetime(2026, 11, 21, 12, 1, tzinfo=UTC)

    def test_full_date_resets(self) -> None:
        """A line that carries its date uses it, and later time-only lines follow it."""
        t = tracker()
        assert t.resolve((2023, 7, 9), (10, 0, 0, 123000)) == datetime(
            2023, 7, 9, 10, 0, 0, 123000, tzinfo=UTC
        )
        assert t.current_date == date(2023, 7, 9)

    def test_impossible_date_gives_none(self) -> None:
        """A prefix with an impossible date has no timestamp (never an exception)."""
        assert tracker().resolve((2023, 2, 30), (10, 0, 0, 0)) is None


class TestDst:
    def test_fall_back_repeated_hour_is_monotonic(self) -> None:
        """Berlin 2026-10-25: 02:30 twice. The second pass is the later UTC instant."""
        t = tracker(BERLIN, hint=date(2026, 10, 25))
        first = t.resolve(None, (2, 30, 0, 0))
        late = t.resolve(None, (2, 59, 0, 0))
        second = t.resolve(None, (2, 10, 0, 0))  # the clock went back one hour
        after = t.resolve(None, (3, 5, 0, 0))
        assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # CEST
        assert second == datetime(2026, 10, 25, 1, 10, tzinfo=UTC)  # CET
        assert first < late < second < after
        assert after == datetime(2026, 10, 25, 2, 5, tzinfo=UTC)

    def test_spring_forward_gap(self) -> None:
        """Berlin 2026-03-29: 02:30 never happened; it reads with the offset before the gap."""
        t = tracker(BERLIN, hint=date(2026, 3, 29))
        assert t.resolve(None, (2, 30, 0, 0)) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
        assert t.resolve(None, (3, 30, 0, 0)) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


NEW_YORK = ZoneInfo("America/New_York")
DST_CHANGES = [
    datetime(2026, 10, 25, 1, tzinfo=UTC),  # Berlin falls back
    datetime(2026, 3, 29, 1, tzinfo=UTC),  # Berlin springs forward
    datetime(2026, 11, 1, 6, tzinfo=UTC),  # New York falls back
    datetime(2026, 3, 8, 7, tzinfo=UTC),  # New York springs forward
]
NEAR_DST_CHANGES = st.tuples(st.sampled_from(DST_CHANGES), st.integers(-4 * 3600, 3600)).map(
    lambda pair: pair[0] + timedelta(seconds=pair[1])
)

times = st.tuples(
    st.integers(0, 23), st.integers(0, 59), st.integers(0, 59), st.sampled_from([0, 0, 500000])
)


class TestProperties:
    @settings(max_examples=200, deadline=None)
    @given(walls=st.lists(times, min_size=1, max_size=60), zone=st.sampled_from([UTC, BERLIN]))
    def test_days_never_go_back_and_advance_only_on_big_steps(self, walls, zone) -> None:
        """The inferred date never decreases and changes only when time went back > 2 h."""
        t = tracker(zone)
        previous_day, previous_seconds = None, None
        for wall in walls:
            assert t.resolve(None, wall) is not None
            day = t.current_date
            seconds = wall[0] * 3600 + wall[1] * 60 + wall[2]
            if previous_day is not None:
                big_step = previous_seconds - seconds > BACKWARDS_THRESHOLD
                assert day == previous_day + timedelta(days=1 if big_step else 0)
            previous_day, previous_seconds = day, seconds

    @settings(max_examples=300, deadline=None)
    @given(
        start=st.one_of(
            st.datetimes(
                min_value=datetime(2024, 1, 1),
                max_value=datetime(2030, 1, 1),
                timezones=st.just(UTC),
            ),
            NEAR_DST_CHANGES,
        ),
        gaps=st.lists(st.integers(0, 3599), min_size=1, max_size=80),
        zone=st.sampled_from([UTC, BERLIN, NEW_YORK]),
    )
    def test_a_real_timeline_is_recovered(self, start, gaps, zone) -> None:
        """Lines written at real instants less than an hour apart are dated back exactly.

        So UTC never goes backwards, across midnight, fall-back and spring-forward alike
        (a busy server writes at least every hour; longer silences are covered above).
        A file cannot show which pass of a repeated hour its first line is in: the rule
        says the first, so a start in the second pass is left out.
        """
        start = start.replace(microsecond=0)
        assume(start.astimezone(zone).fold == 0)
        t = tracker(zone, hint=start.astimezone(zone).date())
        moment = start
        for gap in [0, *gaps]:
            moment += timedelta(seconds=gap)
            wall_clock = moment.astimezone(zone)
            wall = (wall_clock.hour, wall_clock.minute, wall_clock.second, 0)
            assert t.resolve(None, wall) == moment
