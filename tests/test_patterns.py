"""The operator's patterns (agent/parse/patterns.py): checks at load, fields, order, reader hook."""

from __future__ import annotations

from datetime import UTC, date

import pytest

from agent.parse.minecraft import classify
from agent.parse.patterns import LinePattern, Patterns, check_regex, check_tags
from agent.parse.reader import EntryReader, ReaderOptions, ServerContext

CHAT = r"^\[\w+\] (?P<username>\w{3,16}) » (?P<chat>.*)$"
DAY = date(2026, 11, 21)


def patterns(*specs: tuple[str, list[str]]) -> Patterns:
    compiled = Patterns.compile(specs)
    assert compiled is not None
    return compiled


class TestMatch:
    def test_named_groups_fill_the_fields(self) -> None:
        """username and chat from the issue's example; the tags as configured."""
        event = patterns((CHAT, ["chat"])).match("[Member] Steve » hello there")
        assert event is not None
        assert (event.tags, event.fields) == (
            ["chat"],
            {"username": "Steve", "chat": "hello there"},
        )

    def test_address_and_location(self) -> None:
        """ip without its slash or brackets, port as an int, location from x, y, z (+ world)."""
        regex = (
            r"^(?P<username>\w+) joined from (?P<ip>\S+):(?P<port>\d+)"
            r" at (?P<world>\w+) (?P<x>\S+) (?P<y>\S+) (?P<z>\S+)$"
        )
        event = patterns((regex, ["login"])).match(
            "Steve joined from /[2001:db8::1]:25565 at world_nether 1.5 64 -3.25"
        )
        assert event is not None
        assert event.tags == ["connection", "login"]
        assert event.fields == {
            "username": "Steve",
            "ip": "2001:db8::1",
            "port": 25565,
            "location": {"x": 1.5, "y": 64.0, "z": -3.25, "world": "world_nether"},
        }

    @pytest.mark.parametrize(
        ("message", "fields"),
        [
            ("Steve from /**.**.**.**:99999 at x 1 2", {"username": "Steve"}),  # masked, >65535
            (
                "Steve from /1.2.3.4:1 at 1e999 1 2",
                {"username": "Steve", "ip": "1.2.3.4", "port": 1},
            ),
            ("Steve from  at ", {"username": "Steve"}),  # groups that matched nothing
        ],
    )
    def test_unusable_values_are_left_out(self, message: str, fields: dict[str, object]) -> None:
        """A masked ip, a port out of range, a location that is not three finite numbers,
        an empty group: the field is omitted, the rest stays."""
        regex = (
            r"^(?P<username>\w+) from (?P<ip>[^:]*):?(?P<port>\d*)"
            r" at (?P<x>\S*) ?(?P<y>\S*) ?(?P<z>\S*)$"
        )
        event = patterns((regex, ["connection"])).match(message)
        assert event is not None and event.fields == fields

    def test_colour_is_removed_before_matching(self) -> None:
        """ANSI escapes and § codes are gone, as for the built-ins, so fields carry none."""
        event = patterns((CHAT, ["chat"])).match("\x1b[33m[Member] §aSteve§r » §ehi\x1b[m")
        assert event is not None and event.fields == {"username": "Steve", "chat": "hi"}

    def test_first_matching_pattern_wins(self) -> None:
        """Patterns are tried in the configured order."""
        both = patterns((r"^(?P<chat>.*)$", ["chat"]), (r"^(?P<username>\w+)", ["death"]))
        event = both.match("Steve fell")
        assert event is not None and event.tags == ["chat"]
        assert both.match("") is not None
        assert patterns((CHAT, ["chat"])).match("Steve fell") is None

    def test_implied_tags_come_first_once(self) -> None:
        """login/logout imply connection, starting/stopping server, overloaded performance."""
        assert check_tags(["stopping"]) == ("server", "stopping")
        assert check_tags(["connection", "logout"]) == ("connection", "logout")
        assert check_tags(["overloaded"]) == ("performance", "server", "overloaded")
        assert check_tags(["chat", "death"]) == ("chat", "death")


class TestChecks:
    @pytest.mark.parametrize(
        ("regex", "error"),
        [
            ("(unclosed", "invalid regular expression"),
            (r"(?P<name>\w+)", "unknown group(s) name"),
            (r"(?P<uuid>\S+) (?P<username>\w+)", "unknown group(s) uuid"),
            (r"(?P<x>\d+) (?P<y>\d+)", "three groups x, y and z"),
            (r"(?P<world>\w+)", "world needs x, y and z"),
        ],
    )
    def test_bad_regex(self, regex: str, error: str) -> None:
        """A regex that does not compile or has a group that is not a field is refused."""
        with pytest.raises(ValueError, match=error.replace("(", r"\(").replace(")", r"\)")):
            check_regex(regex)

    @pytest.mark.parametrize("tags", [["chatt"], ["timestamp"], ["unknown"], [], ["chat", "Chat"]])
    def test_bad_tags(self, tags: list[str]) -> None:
        """Unknown tags, the reader's own (timestamp, unknown) and no tag are refused."""
        with pytest.raises(ValueError, match="tag"):
            check_tags(tags)

    def test_no_pattern_is_none(self) -> None:
        """No pattern configured: nothing to call (the reader uses the built-ins alone)."""
        assert Patterns.compile([]) is None
        assert EntryReader(server_id="s", fingerprint="f")._classify is classify

    def test_compiled_patterns_compare_by_value(self) -> None:
        """Options holding patterns stay comparable and hashable (ReaderOptions is frozen)."""
        assert LinePattern.compile(CHAT, ["chat"]) == LinePattern.compile(CHAT, ["chat"])
        hash(ReaderOptions(patterns=patterns((CHAT, ["chat"]))))


class TestReaderHook:
    def read(self, data: bytes, compiled: Patterns | None, context: ServerContext | None = None):
        options = ReaderOptions(timezone=UTC, patterns=compiled)
        reader = EntryReader(
            server_id="s", fingerprint="f", options=options, date_hint=DAY, context=context
        )
        return reader.feed(data) + reader.finish()

    def test_patterns_come_before_the_built_ins(self) -> None:
        """A message the built-ins know is tagged by the operator's pattern when it matches;
        the timestamp tag is still added, other lines keep the built-in result."""
        data = (
            b"[10:00:00] [Server thread/INFO]: <Steve> !rip\n"
            b"[10:00:01] [Server thread/INFO]: <Steve> hello\n"
        )
        rip = patterns((r"^<(?P<username>\w+)> !rip$", ["death"]))
        first, second = self.read(data, rip)
        assert (first.tags, first.fields) == (["timestamp", "death"], {"username": "Steve"})
        assert second.tags == ["timestamp", "chat"]
        assert second.fields == {"username": "Steve", "chat": "hello"}
        assert self.read(data, None)[0].tags == ["timestamp", "chat"]

    def test_pattern_username_gets_the_known_uuid(self) -> None:
        """The server context enriches a pattern's fields like the built-ins'."""
        context = ServerContext()
        context.enrich({"username": "Steve", "uuid": "u-1"})
        data = "[10:00:00] [Async Chat Thread - #0/INFO]: [Member] Steve » hi\n".encode()
        [entry] = self.read(data, patterns((CHAT, ["chat"])), context)
        assert entry.fields == {"username": "Steve", "chat": "hi", "uuid": "u-1"}

    def test_lines_without_a_prefix_are_tried_too(self) -> None:
        """A line with no recognised prefix is its own entry: patterns apply to it."""
        [entry] = self.read("[Member] Steve » hi\n".encode(), patterns((CHAT, ["chat"])))
        assert entry.tags == ["chat"] and entry.fields["username"] == "Steve"
