"""EntryReader: any chunking gives the same entries, offsets are checkpoints, context is shared."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.model import Decoding, Entry
from agent.parse.reader import EntryReader, ReaderOptions, ServerContext

OPTIONS = ReaderOptions(timezone=UTC, multiline_max_lines=4, multiline_max_bytes=4096)
DAY = date(2026, 11, 21)

PIECES = [
    b"[10:00:00] [Server thread/INFO]: Starting minecraft server version 1.21.4\n",
    b"[10:00:01] [Server thread/ERROR]: failed\n",
    b"\tat a.b.C(C.java:1)\n",
    b"continuation without prefix\r\n",
    b"[23:59:59] [Server thread/INFO]: <Steve> late\n",
    b"[00:00:01] [Server thread/INFO]: <Steve> early\n",
    b"\xff\xfe not utf-8\n",
    b"\n",
    b"[10:00:02] [Server thread/WARN]: no newline at the end",
]


def read_all(data: bytes, sizes: list[int], **kwargs: object) -> tuple[list[tuple], list[int]]:
    """Feed ``data`` in chunks of ``sizes``; return entry tuples and committed offsets."""
    reader = EntryReader(server_id="s", fingerprint="f", options=OPTIONS, date_hint=DAY, **kwargs)  # type: ignore[arg-type]
    entries: list[Entry] = []
    commits = []
    pos = 0
    chunk_sizes = iter(sizes)
    while pos < len(data):
        size = next(chunk_sizes, len(data)) or 1
        got = reader.feed(data[pos : pos + size])
        entries += got
        if got:
            assert reader.committed_offset == got[-1].end
        commits.append(reader.committed_offset)
        pos += size
    entries += reader.finish()
    rows = [
        (e.offset, e.end, e.message, e.line, e.timestamp, e.tags, e.truncated, e.decoding)
        for e in entries
    ]
    return rows, commits


class TestChunking:
    @settings(max_examples=200, deadline=None)
    @given(
        parts=st.lists(st.sampled_from(PIECES), max_size=25),
        sizes=st.lists(st.integers(min_value=1, max_value=80), max_size=40),
    )
    def test_any_chunking_gives_the_same_entries(
        self, parts: list[bytes], sizes: list[int]
    ) -> None:
        """Feeding the same bytes in any chunk sizes yields identical entries and offsets."""
        data = b"".join(parts)
        whole, _ = read_all(data, [len(data) or 1])
        chunked, commits = read_all(data, sizes)
        assert chunked == whole
        assert commits == sorted(commits)  # the checkpoint never moves back

    @settings(max_examples=100, deadline=None)
    @given(parts=st.lists(st.sampled_from(PIECES), max_size=25))
    def test_entries_tile_the_stream(self, parts: list[bytes]) -> None:
        """Entries cover every byte exactly once, in order: nothing is lost or repeated."""
        data = b"".join(parts)
        rows, _ = read_all(data, [7])
        position = 0
        for offset, end, *_ in rows:
            assert offset == position
            position = end
        assert position == len(data)


def test_committed_offset_excludes_the_pending_entry() -> None:
    """The checkpoint is the end of the last returned entry, never inside a pending one."""
    reader = EntryReader(server_id="s", fingerprint="f", options=OPTIONS, date_hint=DAY)
    first = PIECES[0]
    assert reader.feed(first + PIECES[1]) != []
    assert reader.committed_offset == len(first)
    assert reader.feed(PIECES[2][:5]) == []
    assert reader.committed_offset == len(first)


def test_start_offset_continues_numbering() -> None:
    """A reader resumed at an offset reports stream offsets from there."""
    reader = EntryReader(
        server_id="s", fingerprint="f", options=OPTIONS, date_hint=DAY, start_offset=1000
    )
    entries = reader.feed(PIECES[0] + PIECES[1]) + reader.finish()
    assert [e.offset for e in entries] == [1000, 1000 + len(PIECES[0])]


def test_idle_flush_releases_the_pending_entry() -> None:
    """A pending entry is released after the idle time, not before."""
    reader = EntryReader(server_id="s", fingerprint="f", options=OPTIONS, date_hint=DAY)
    assert reader.feed(PIECES[0], now=100.0) == []
    assert reader.flush_idle(100.5) == []
    [entry] = reader.flush_idle(101.0)
    assert entry.message.startswith("Starting")
    assert reader.committed_offset == len(PIECES[0])
    assert reader.flush_idle(200.0) == []


def test_timestamp_and_tag() -> None:
    """A timed line gets a UTC timestamp and the ``timestamp`` tag first."""
    reader = EntryReader(server_id="s", fingerprint="f", options=OPTIONS, date_hint=DAY)
    [entry] = reader.feed(PIECES[0]) + reader.finish()
    assert entry.timestamp == datetime(2026, 11, 21, 10, 0, 0, tzinfo=UTC)
    assert entry.tags[0] == "timestamp"
    assert entry.log_level == "INFO" and entry.thread == "Server thread"


def test_midnight_rollover() -> None:
    """A time going backwards by hours moves to the next day."""
    reader = EntryReader(server_id="s", fingerprint="f", options=OPTIONS, date_hint=DAY)
    entries = reader.feed(PIECES[4] + PIECES[5]) + reader.finish()
    assert [e.timestamp.day for e in entries] == [21, 22]  # type: ignore[union-attr]


def test_leading_continuation_lines_form_their_own_entry() -> None:
    """Lines before the first prefixed line are an entry without timestamp or level."""
    reader = EntryReader(server_id="s", fingerprint="f", options=OPTIONS, date_hint=DAY)
    entries = reader.feed(b"\tat x.Y(Y.java:3)\n... 4 more\n" + PIECES[0]) + reader.finish()
    assert entries[0].message == "\tat x.Y(Y.java:3)\n... 4 more"
    assert entries[0].timestamp is None and entries[0].log_level is None
    assert "timestamp" not in entries[0].tags


def test_worst_decoding_and_truncation_of_an_entry() -> None:
    """An entry reports its worst line decoding and any truncated line."""
    options = ReaderOptions(timezone=UTC, max_line_bytes=64)
    reader = EntryReader(server_id="s", fingerprint="f", options=options, date_hint=DAY)
    data = PIECES[1] + b"\xff bad\n" + b"y" * 200 + b"\n"
    [entry] = reader.feed(data) + reader.finish()
    assert entry.decoding is Decoding.REPLACED
    assert entry.truncated


def test_uuid_learned_and_added_to_later_lines_across_files() -> None:
    """A ``UUID of player`` line teaches the uuid; later entries of that name carry it."""
    context = ServerContext()
    first = EntryReader(
        server_id="s", fingerprint="a", options=OPTIONS, date_hint=DAY, context=context
    )
    first.feed(
        b"[10:00:00] [User Authenticator #1/INFO]: UUID of player Steve is "
        b"8667ba71-b85a-4004-af54-457a9734eed7\n"
    )
    first.finish()
    second = EntryReader(
        server_id="s", fingerprint="b", options=OPTIONS, date_hint=DAY, context=context
    )
    entries = second.feed(b"[10:00:05] [Async Chat Thread - #0/INFO]: <Steve> hi\n")
    entries += second.finish()
    assert entries[0].fields.get("username") == "Steve"
    assert entries[0].fields.get("uuid") == "8667ba71-b85a-4004-af54-457a9734eed7"


def test_uuid_map_is_bounded() -> None:
    """The per-server map forgets the least recently seen players first."""
    context = ServerContext(max_players=2)
    for name in ("a", "b", "c"):
        context.enrich({"username": name, "uuid": f"uuid-{name}"})
    assert "uuid" not in context.enrich({"username": "a"})
    assert context.enrich({"username": "c"})["uuid"] == "uuid-c"


def test_clock_gives_the_date_without_a_hint() -> None:
    """Without a date hint the injected clock's date (in the server's zone) is used."""
    noon = datetime(2026, 5, 6, 12, 0, tzinfo=UTC).timestamp()
    reader = EntryReader(server_id="s", fingerprint="f", options=OPTIONS, clock=lambda: noon)
    [entry] = reader.feed(PIECES[0]) + reader.finish()
    assert entry.timestamp == datetime(2026, 5, 6, 10, 0, tzinfo=UTC)


class TestContextSnapshot:
    UUID_LINE = (
        b"[10:00:00] [User Authenticator #1/INFO]: UUID of player Steve is "
        b"8667ba71-b85a-4004-af54-457a9734eed7\n"
    )

    def test_snapshot_is_json_and_restores_into_a_fresh_context(self) -> None:
        """snapshot() is a JSON-able dict, one key per component; restore() brings it back
        into another context, least recently seen order included."""
        context = ServerContext(max_players=2)
        for name in ("a", "b"):
            context.enrich({"username": name, "uuid": f"uuid-{name}"})
        snapshot = json.loads(json.dumps(context.snapshot()))
        assert snapshot["uuids"] == {"a": "uuid-a", "b": "uuid-b"}
        again = ServerContext(max_players=2)
        again.restore(snapshot)
        again.enrich({"username": "c", "uuid": "uuid-c"})  # forgets "a", the oldest
        assert "uuid" not in again.enrich({"username": "a"})
        assert again.enrich({"username": "b"})["uuid"] == "uuid-b"

    def test_restore_ignores_unknown_keys_and_malformed_components(self) -> None:
        """A component that is not what it should be leaves that component empty; keys
        of other components (a newer agent's) are ignored."""
        context = ServerContext(max_players=2)
        context.restore({"uuids": {"a": "1", "b": 2, "c": "3", "d": "4"}, "online": ["x"]})
        assert context.snapshot()["uuids"] == {"c": "3", "d": "4"}
        context.restore({"uuids": ["not", "a", "map"]})
        assert context.snapshot()["uuids"] == {"c": "3", "d": "4"}

    def test_version_moves_only_when_the_context_changes(self) -> None:
        """Lines with nothing to learn leave ``version`` alone (nothing to save)."""
        context = ServerContext()
        reader = EntryReader(
            server_id="s", fingerprint="a", options=OPTIONS, date_hint=DAY, context=context
        )
        reader.feed(PIECES[0] + b"[10:00:01] [Server thread/INFO]: Preparing spawn area: 50%\n")
        assert context.version == 0
        reader.feed(self.UUID_LINE + PIECES[0])
        assert context.version == 1

    def test_pending_entry_does_not_change_the_context(self) -> None:
        """The context moves with the entries returned, not with the pending one, so a
        snapshot taken when entries are handed on is the context at committed_offset."""
        context = ServerContext()
        reader = EntryReader(
            server_id="s", fingerprint="a", options=OPTIONS, date_hint=DAY, context=context
        )
        entries = reader.feed(PIECES[0] + self.UUID_LINE)
        assert reader.committed_offset == len(PIECES[0]) == entries[-1].end
        assert context.snapshot()["uuids"] == {}
        assert reader.flush_idle(now=100.0)
        assert context.snapshot()["uuids"] == {"Steve": "8667ba71-b85a-4004-af54-457a9734eed7"}
