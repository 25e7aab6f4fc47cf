"""The operator's own line patterns (``[[servers.patterns]]``): compiled once, tried first.

A pattern is a regular expression *searched* in a message (the line without its prefix,
ANSI escapes and ``§`` colour codes removed, as the built-in parser sees it; anchor with
``^`` and ``$``) and the tags a match gives. Patterns are tried in the configured order
before the built-in classification; the first that matches decides the line's tags and
fields, and the built-ins are not consulted for it. Pure: no I/O.

Named groups fill the documented fields, and only those (anything else is refused when
the config is loaded, as an unknown tag is):

=============  ======================================================================
group          field
=============  ======================================================================
``username``   ``username`` (omitted when empty; the server's known UUID is added)
``chat``       ``chat`` (kept when empty: an empty message is still a message)
``ip``         ``ip``; a leading ``/`` and IPv6 brackets are removed, masked (``*``)
               addresses are omitted, as the built-ins do
``port``       ``port``: an integer 0-65535, else omitted
``x y z``      ``location {x, y, z}`` as floats: the three groups together, or none;
``world``      ``location.world`` (only with ``x``, ``y``, ``z``)
=============  ======================================================================

A group that did not take part in the match leaves its field out. Tags are the
:class:`agent.model.Tag` values except ``timestamp`` (the reader adds it) and ``unknown``;
at least one. The tags a tag implies in the built-in taxonomy are added in front, so the
operator's lines count like the built-in ones: ``login``/``logout`` -> ``connection``,
``starting``/``stopping`` -> ``server``, ``overloaded`` -> ``performance`` and ``server``.

With no pattern configured nothing here runs: the reader calls the built-in
:func:`agent.parse.minecraft.classify` directly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from agent.model import Tag
from agent.parse.minecraft import Event
from agent.parse.minecraft.connections import MAX_PORT, location
from agent.parse.minecraft.text import plain

FIELD_GROUPS = ("username", "chat", "ip", "port", "x", "y", "z", "world")
_XYZ = frozenset(("x", "y", "z"))
PATTERN_TAGS = tuple(tag.value for tag in Tag if tag not in (Tag.TIMESTAMP, Tag.UNKNOWN))
_IMPLIED = {
    Tag.LOGIN.value: (Tag.CONNECTION.value,),
    Tag.LOGOUT.value: (Tag.CONNECTION.value,),
    Tag.STARTING.value: (Tag.SERVER.value,),
    Tag.STOPPING.value: (Tag.SERVER.value,),
    Tag.OVERLOADED.value: (Tag.PERFORMANCE.value, Tag.SERVER.value),
}

Classify = Callable[..., Event]  # agent.parse.minecraft.classify: message first


def check_regex(regex: str) -> re.Pattern[str]:
    """Compile ``regex`` and check its named groups; ValueError says what is wrong."""
    try:
        compiled = re.compile(regex)
    except re.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from None
    groups = set(compiled.groupindex)
    unknown = sorted(groups - set(FIELD_GROUPS))
    if unknown:
        raise ValueError(
            f"unknown group(s) {', '.join(unknown)}; allowed: {', '.join(FIELD_GROUPS)}"
        )
    xyz = groups & _XYZ
    if xyz and xyz != _XYZ:
        raise ValueError("a location needs the three groups x, y and z")
    if "world" in groups and not xyz:
        raise ValueError("the group world needs x, y and z")
    return compiled


def check_tags(tags: Sequence[str]) -> tuple[str, ...]:
    """The tags of a pattern with the ones they imply in front; ValueError if unknown."""
    if not tags:
        raise ValueError(f"at least one tag is needed; one of {', '.join(PATTERN_TAGS)}")
    unknown = sorted(set(tags) - set(PATTERN_TAGS))
    if unknown:
        raise ValueError(f"unknown tag(s) {', '.join(unknown)}; allowed: {', '.join(PATTERN_TAGS)}")
    implied = [extra for tag in tags for extra in _IMPLIED.get(tag, ())]
    return tuple(dict.fromkeys([*implied, *tags]))


@dataclass(frozen=True, slots=True)
class LinePattern:
    """One compiled ``[[servers.patterns]]`` entry."""

    regex: re.Pattern[str]
    tags: tuple[str, ...]

    @classmethod
    def compile(cls, regex: str, tags: Sequence[str]) -> LinePattern:
        """Check and compile (ValueError as :func:`check_regex` and :func:`check_tags`)."""
        return cls(check_regex(regex), check_tags(tags))

    def match(self, text: str) -> Event | None:
        """The tags and fields if the pattern is found in ``text`` (already plain)."""
        found = self.regex.search(text)
        if found is None:
            return None
        return Event(list(self.tags), _fields(found.groupdict()))


@dataclass(frozen=True, slots=True)
class Patterns:
    """A server's patterns, in the configured order."""

    patterns: tuple[LinePattern, ...]

    @classmethod
    def compile(cls, specs: Iterable[tuple[str, Sequence[str]]]) -> Patterns | None:
        """``(regex, tags)`` pairs -> Patterns; None when there are none (zero cost)."""
        patterns = tuple(LinePattern.compile(regex, tags) for regex, tags in specs)
        return cls(patterns) if patterns else None

    def match(self, message: str) -> Event | None:
        """The first pattern's match in ``message`` (colour removed), or None."""
        text = plain(message)
        for pattern in self.patterns:
            event = pattern.match(text)
            if event is not None:
                return event
        return None

    def before(self, classify: Classify) -> Classify:
        """``classify`` with these patterns tried first (the reader's classifier)."""
        match = self.match

        def classify_with_patterns(message: str, *args: Any, **kwargs: Any) -> Event:
            return match(message) or classify(message, *args, **kwargs)

        return classify_with_patterns


def _fields(groups: dict[str, str | None]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    username = groups.get("username")
    if username:
        fields["username"] = username
    ip = _ip(groups.get("ip"))
    if ip:
        fields["ip"] = ip
    port = groups.get("port")
    if port is not None and port.isascii() and port.isdigit() and int(port) <= MAX_PORT:
        fields["port"] = int(port)
    x, y, z = groups.get("x"), groups.get("y"), groups.get("z")
    if x is not None and y is not None and z is not None:
        coords = location(x, y, z)
        if coords is not None:
            world = groups.get("world")
            if world:
                coords["world"] = world
            fields["location"] = coords
    chat = groups.get("chat")
    if chat is not None:
        fields["chat"] = chat
    return fields


def _ip(value: str | None) -> str | None:
    """``/1.2.3.4`` -> ``1.2.3.4``, ``[::1]`` -> ``::1``; masked or empty -> None."""
    if not value:
        return None
    host = value.removeprefix("/")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host if host and "*" not in host else None
