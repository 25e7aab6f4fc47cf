"""What a message says: tags and fields.

:func:`classify` works on the message without its prefix. Cheap tests come first: the
first character picks chat (``<``, ``[``, ``*``) and the fixed server sentences; other
lines are split into a first token and a tail, and the tail's first word picks the
player event (``logged``, ``lost``, ``joined``, ``has`` ...) or the death index. Most lines
are plugin and start-up chatter and leave after a few ``startswith`` and dict look-ups.

Chat wins over every other tag for its text (``<Alice> Bob joined the game`` is chat).
Fields never carry ANSI escapes or ``§`` codes. Decisions (see also
:mod:`agent.parse.minecraft.connections`):

* ``UUID of player X is U`` is ``connection`` (a step of a login) with username + uuid.
* Chat names: ``<[Prefix]Steve>`` and ``<Prefix Steve>`` give username ``Steve`` (the
  last word, after a bracketed prefix); Essentials' ``~Alan`` is a display nickname, not
  an account, so it is reported as ``nickname`` and no ``username``.
* ``[Server] text`` (/say) is chat without a username; ``[Server] <name> text`` (mc-coal's
  relayed web chat) gives ``name`` when it is a valid player name. ``[CONSOLE] text``
  (Alpha/Beta) is chat without a username. ``[Not Secure] ...`` is always chat:
  ``<name>``, a chat plugin's ``[Rank] name >> text``, or /say's ``[name] text``.
* Lines whose meaning depends on who is online carry a ``hint`` and are decided by
  :mod:`agent.parse.minecraft.online` (``left the game``, BungeeCord login steps).
* Bedrock's ``Version X`` line after ``Starting Server`` is ``server`` with ``version``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agent.model import Tag
from agent.parse.minecraft import chat, connections, proxies
from agent.parse.minecraft.deaths import FIRST_WORDS, match_prefixed, match_tail, villager_death
from agent.parse.minecraft.text import strip_ansi, strip_colour


@dataclass(slots=True)
class Event:
    """The tags and fields of one message (``timestamp`` is added by the assembler)."""

    tags: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    # For the roster (agent.parse.minecraft.online): a line whose meaning depends on who
    # is online ("left", a proxy step); never sent.
    hint: str = ""


_UNKNOWN = Tag.UNKNOWN.value
_CHAT = Tag.CHAT.value
_DEATH = Tag.DEATH.value
_SERVER = Tag.SERVER.value
_OVERLOADED_TAGS = (Tag.PERFORMANCE.value, Tag.OVERLOADED.value, _SERVER)
_STARTING_TAGS = (_SERVER, Tag.STARTING.value)
_STOPPING_TAGS = (_SERVER, Tag.STOPPING.value)

_NAME = re.compile(r"[.*~]?\w{1,32}")
_LAG = re.compile(r"Running (\d+)ms (?:behind, skipping|or) (\d+) tick")
_DONE = re.compile(r"Done \(\d+(?:[.,]\d+)?s\)!(?: For help, type .*)?")
_STARTING_VERSION = re.compile(
    r"Starting (?:integrated )?minecraft server version ((?:Alpha |Beta )?\S+)"
)
_BEDROCK_VERSION = re.compile(r"Version:? ([\d*][\w.*\-]*)")
_STOPPING = frozenset(
    ("Stopping server", "Stopping the server", "Stopping server...", "Stopping the server..")
)  # the last: Beta's /stop
_UUID = re.compile(r"UUID of player (\S+) is (\S+)")
_PROXY_ENDS = ("<-> InitialHandler has connected", "-> UpstreamBridge has disconnected")
_PROXY_STEPS = (" has connected", "'")
_KICKED = "] disconnected with: "
_STARTING_STARTS = ("Starting minecraft server version ", "Starting integrated minecraft")
_JOIN_LEAVE = frozenset(("joined the game", "left the game"))
_ADVANCEMENTS = (
    "has made the advancement [",
    "has reached the goal [",
    "has completed the challenge [",
    "has just earned the achievement [",
)


def _event(tags: tuple[str, ...] | list[str], fields: dict[str, Any] | None = None) -> Event:
    return Event(list(tags), fields if fields is not None else {})


def _who(name: str) -> dict[str, Any]:
    """``username``, or ``nickname`` for an Essentials ``~nick`` display name."""
    if name.startswith("~"):
        return {"nickname": name[1:]}
    return {"username": name}


def _chat_name(name: str) -> str:
    """The player's name in a chat bracket with a rank prefix: ``[Admin]Steve``, ``Admin Steve``."""
    if name[:1] == "[" and "]" in name:
        name = name[name.index("]") + 1 :]
    if " " in name:
        name = name.rsplit(" ", 1)[-1]
    return name


def _angle_chat(text: str) -> Event | None:
    """``<name> text``."""
    end = text.find("> ", 1)
    if end < 0:
        return None
    name = text[1:end]
    if "[" in name or " " in name:
        name = _chat_name(name)
    if not name:
        return Event([_CHAT], {"chat": text[end + 2 :]})
    if name[0] == "~":
        return Event([_CHAT], {"nickname": name[1:], "chat": text[end + 2 :]})
    return Event([_CHAT], {"username": name, "chat": text[end + 2 :]})


def _emote(text: str) -> Event | None:
    """``* name text`` (/me)."""
    if text[1:2] != " ":
        return None
    name, _, said = text[2:].partition(" ")
    if not name:
        return None
    return _event((_CHAT,), {**_who(name), "chat": said})


def _bracketed(text: str) -> Event | None:
    """Lines starting with ``[``: /say, secure-chat and world prefixes, proxies.

    The bracketed word picks the rule, so a plugin's ``[Essentials] ...`` costs a
    ``find`` and a few constant-time comparisons.
    """
    close = text.find("]")
    after = text[close + 1 : close + 2]
    if after == "<":  # [world]<name> text
        return _angle_chat(text[close + 1 :])
    if after != " ":
        return None
    word = text[: close + 1]
    if word == "[Server]":
        return _event((_CHAT,), chat.relayed(text[close + 2 :]))
    if word == "[CONSOLE]" or word == "[Rcon]":  # Alpha/Beta console /say, /say over RCON
        return _event((_CHAT,), {"chat": text[close + 2 :]})
    if word == "[Not Secure]":
        rest = text[close + 2 :]
        return _angle_chat(rest) if rest[:1] == "<" else _event((_CHAT,), chat.not_secure(rest))
    if text.endswith(_PROXY_STEPS):
        found = proxies.step(text)
        if found is not None:
            return Event(*found)
    if (
        word == "[connected player]"
        or text.startswith(_KICKED, close)
        or text.endswith(_PROXY_ENDS)
    ):
        parsed = connections.proxy(text)
        return _event(*parsed) if parsed else None
    return None


def _overloaded(text: str) -> Event | None:
    if not text.startswith("Can't keep up!"):
        return None
    fields: dict[str, Any] = {}
    lag = _LAG.search(text)
    if lag is not None:
        counts = {
            "lag_ms": connections.bounded_int(lag[1]),
            "lag_ticks": connections.bounded_int(lag[2]),
        }
        fields = {name: value for name, value in counts.items() if value is not None}
    return _event(_OVERLOADED_TAGS, fields)


def _c_line(text: str) -> Event | None:
    return _overloaded(text) or _proxy_lifecycle(text)


def _proxy_lifecycle(text: str) -> Event | None:
    """``Enabled BungeeCord version X``, ``Booting up Velocity X``, ``Closing listener [``."""
    version = proxies.starting_version(text)
    if version is not None:
        return _event(_STARTING_TAGS, {"version": version})
    return _event(_STOPPING_TAGS) if proxies.is_proxy_stopping(text) else None


def _lifecycle(text: str) -> Event | None:
    """``Starting ...``, ``Stopping ...``, ``Server started.``, Bedrock ``Version X``."""
    if text in _STOPPING or text == "Shutting down the proxy...":
        return _event(_STOPPING_TAGS)
    if text == "Starting Server":
        return _event(_STARTING_TAGS)
    if text == "Server started.":
        return _event((_SERVER,))
    if text.startswith(_STARTING_STARTS):
        found = _STARTING_VERSION.fullmatch(text)
        if found is not None:
            return _event(_STARTING_TAGS, {"version": found[1]})
    if text.startswith("Version"):
        found = _BEDROCK_VERSION.fullmatch(text)
        if found is not None:  # masked ("**.**.**.**") in shared logs: no version then
            version = found[1]
            return _event((_SERVER,), {} if "*" in version else {"version": version})
    return None


def _done(text: str) -> Event | None:
    """``Done (3.2s)! For help...``; not Geyser's ``Done (...)! Run /geyser help``."""
    return _event((_SERVER,)) if _DONE.fullmatch(text) else None


def _uuid(text: str) -> Event | None:
    found = _UUID.fullmatch(text)
    if found is None:
        return None
    return _event((connections.CONNECTION,), {"username": found[1], "uuid": found[2]})


def _villager(text: str) -> Event | None:
    fields = villager_death(text)
    return None if fields is None else _event((_DEATH,), fields)


def _login(name: str, tail: str, text: str) -> Event | None:
    parsed = connections.java_login(text) or connections.handshake_lost(text)
    return _event(*parsed) if parsed else None


def _lost(name: str, tail: str, text: str) -> Event | None:
    parsed = connections.java_lost_connection(name, tail)
    return _event(*parsed) if parsed else None


def _prelogin_lost(name: str, tail: str, text: str) -> Event | None:
    parsed = connections.prelogin_lost(text)
    return _event(*parsed) if parsed else None


def _join_leave(name: str, tail: str, text: str) -> Event | None:
    if tail in _JOIN_LEAVE or (tail[:1] == "(" and tail.endswith(") joined the game")):
        hint = "left" if tail == "left the game" else ""
        return Event([connections.CONNECTION], {"username": name}, hint)
    if tail == "left the game.":  # Beta and Forge at shutdown
        return Event([connections.CONNECTION], {"username": name}, "left")
    return None


def _death(name: str, tail: str) -> Event | None:
    """``<victim> <death template tail>``; the victim must look like a player name."""
    death = match_tail(tail)
    if death is None or _NAME.fullmatch(name) is None:
        return None
    return _event((_DEATH,), {**_who(name), "death": death})


def _advancement(name: str, tail: str, text: str) -> Event | None:
    if not tail.endswith("]"):
        return None
    for wording in _ADVANCEMENTS:
        if tail.startswith(wording):
            fields = {**_who(name), "advancement": tail[len(wording) : -1]}
            return _event((Tag.ADVANCEMENT.value,), fields)
    return None


def _death_event(name: str, tail: str, text: str) -> Event | None:
    return _death(name, tail)


def _left(name: str, tail: str, text: str) -> Event | None:
    """``left the game``, or a death: ``left the confines of this world``."""
    return _join_leave(name, tail, text) or _death(name, tail)


# The word after the first token -> the player event it may announce (one look-up for
# every line; a death wording's first word leads to the death index).
_BY_WORD = dict.fromkeys(FIRST_WORDS, _death_event)
_BY_WORD.update(
    {"logged": _login, "lost": _lost, "joined": _join_leave, "left": _left, "has": _advancement}
)
# Tails that open with a bracket: Beta's "name [/ip:port] logged in", a lost connection
# before login "name (/ip:port) lost connection", and 1.8's "(formerly known as X)".
_BY_OPENING = {"[/": _login, "(/": _prelogin_lost, "(f": _join_leave}
# Lines starting with these are chat or plugin tags, never a player's name.
_NOT_A_NAME = frozenset("<[*")


def _v_line(text: str) -> Event | None:
    return _lifecycle(text) or _villager(text)


def _bedrock_player(text: str) -> Event | None:
    parsed = connections.bedrock(text)
    return _event(*parsed) if parsed else None


def _prefixed_death(text: str) -> Event | None:
    death = match_prefixed(text)
    return _event((_DEATH,), {"death": death}) if death else None


# First character -> the check for the fixed sentences that start with it.
_BY_FIRST = {
    "<": _angle_chat,
    "[": _bracketed,
    "*": _emote,
    "C": _c_line,
    "E": _proxy_lifecycle,
    "B": _proxy_lifecycle,
    "D": _done,
    "S": _lifecycle,
    "V": _v_line,
    "N": _villager,
    "U": _uuid,
    "P": _bedrock_player,
    "A": _prefixed_death,
}


def classify(message: str, level: str | None = None) -> Event:
    """Tag a message and extract its fields; ``["unknown"]`` when nothing matches.

    ``message`` is the line without its prefix. ``level`` is accepted for callers that
    have it; no rule depends on it today (the same sentences appear at INFO and WARN).
    """
    text = message
    if "\x1b" in text:
        text = strip_ansi(text)
    if "§" in text:
        text = strip_colour(text)
    first = text[:1]
    check = _BY_FIRST.get(first)
    if check is not None:
        event = check(text)
        if event is not None:
            return event
        if first in _NOT_A_NAME:
            return Event([_UNKNOWN], {})
    space = text.find(" ")
    if space > 0:
        tail = text[space + 1 :]
        end = tail.find(" ")
        handler = _BY_WORD.get(tail[:end] if end >= 0 else tail) or _BY_OPENING.get(tail[:2])
        if handler is not None:
            event = handler(text[:space], tail, text)
            if event is not None:
                return event
    return Event([_UNKNOWN], {})
