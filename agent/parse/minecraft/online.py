"""The roster's judgement of a classified line: what only the online players can decide.

:func:`judge` runs after :func:`~agent.parse.minecraft.events.classify` on every line of a
server and keeps :class:`~agent.parse.minecraft.players.Roster` up to date:

* ``login`` adds the player with the line's time; ``logout`` removes them and carries
  ``session_seconds`` when the login was seen (same server, dated lines).
* ``starting`` clears the roster: a restart logged everybody out (their logout lines may
  be missing after a crash).
* ``Steve left the game`` is the logout when Steve is online, i.e. no ``lost
  connection`` ended the session first (pre-1.7 kicks and shutdowns); a ``lost
  connection`` that follows it is then ``connection`` only, so a session has one logout.
* BungeeCord: the first line naming a player who is not online (``-> UpstreamBridge
  has connected`` or ``<-> ServerConnector [x] has connected``) is the ``login``, with the
  address of the nameless handshake before it; the same line for an online player is a
  server switch (``connection``).
* A mod's death message (``Steve was turned to stone by Gorgon``) is a ``death`` (cause
  ``unknown``) when the logger is the server's broadcast logger (Forge formats show it)
  and Steve is online.
* Chat without ``<name>``: on a ``Async Chat Thread - #N`` thread a chat plugin's shape
  with an account name is chat; on a console that shows no thread, it is chat only when
  the name is an online player's. ``[Steve] hi`` (/say without the 1.19 marker) is chat
  when Steve is online. Only ``unknown`` lines are looked at: a line another rule tagged
  keeps its tags.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from agent.model import Tag
from agent.parse.minecraft import chat, proxies
from agent.parse.minecraft.events import Event
from agent.parse.minecraft.players import Roster
from agent.parse.minecraft.text import plain

_UNKNOWN = Tag.UNKNOWN.value
_LOGIN = Tag.LOGIN.value
_LOGOUT = Tag.LOGOUT.value
_STARTING = Tag.STARTING.value
_CONNECTION = Tag.CONNECTION.value
_CHAT_THREAD = "Async Chat Thread"
# The loggers that print broadcast messages (deaths, joins) on Forge-style formats.
_BROADCAST_LOGGERS = ("net.minecraft.server.MinecraftServer", "minecraft/MinecraftServer")
_MODDED_DEATH = re.compile(r"([A-Za-z0-9_]{1,16}) was [a-z][a-z ]{0,60} by (\S.{0,63})")
_ANNOUNCES = ("[", "Enabling ", "Loading ")
# A player who chats, dies or earns an advancement is online, even if the file began
# after their login (a rotated log that starts at midnight).
_PRESENT_TAGS = frozenset((Tag.CHAT.value, Tag.DEATH.value, Tag.ADVANCEMENT.value))
_COMMAND = " issued server command: "
_LIST = re.compile(r"There are \d+ of a max(?: of)? \d+ players online: (.+)")
_PLUGIN_ANNOUNCE = re.compile(r"(?:\[[^\]]{1,40}\] )?(?:Enabling|Loading) ([\w.-]{1,40}) v\S+")


def judge(
    roster: Roster,
    event: Event,
    text: str,
    thread: str | None,
    timestamp: datetime | None,
    logger: str | None = None,
) -> Event:
    """``event`` as the roster sees it (a new Event when it changes); updates ``roster``."""
    tags = event.tags
    if not tags or tags[0] == _UNKNOWN:
        if logger is not None and logger.startswith(_BROADCAST_LOGGERS) and len(roster):
            modded = _modded_death(roster, plain(text))
            if modded is not None:
                return modded
        return _unknown(roster, event, text, thread)
    hint = event.hint
    if not hint and len(tags) == 1 and tags[0] in _PRESENT_TAGS:  # chat, a death: the most common
        name = event.fields.get("username")
        if isinstance(name, str):
            roster.seen(name)
        return event
    when = None if timestamp is None else timestamp.timestamp()
    if hint:
        return _hinted(roster, event, hint, when)
    if _LOGIN in tags:
        name = event.fields.get("username")
        if isinstance(name, str):
            roster.login(name, when)
    elif _LOGOUT in tags:
        return _logout(roster, event, when)
    elif _STARTING in tags:
        roster.clear()
    elif tags[0] in _PRESENT_TAGS:
        name = event.fields.get("username")
        if isinstance(name, str):
            roster.seen(name)
    return event


def _logout(roster: Roster, event: Event, when: float | None) -> Event:
    name = event.fields.get("username")
    if not isinstance(name, str):
        return event
    if roster.ended_by_left(name):  # "left the game" already ended this session
        return Event([_CONNECTION], event.fields)
    seconds = roster.logout(name, when)
    if seconds is None:
        return event
    return Event(event.tags, {**event.fields, "session_seconds": seconds})


def _hinted(roster: Roster, event: Event, hint: str, when: float | None) -> Event:
    fields = event.fields
    name = fields.get("username")
    if hint == proxies.HANDSHAKE:
        roster.handshake(fields)
        return event
    if not isinstance(name, str):
        return event
    if hint == proxies.ADDRESS:
        roster.remember_address(name, {k: v for k, v in fields.items() if k in ("ip", "port")})
    elif hint == proxies.PROXY_JOIN and name not in roster:
        roster.login(name, when)
        return Event([_CONNECTION, _LOGIN], {**fields, **roster.take_address(name)})
    elif hint == "left" and roster.left(name):
        seconds = roster.logout(name, when)
        more: dict[str, Any] = {} if seconds is None else {"session_seconds": seconds}
        return Event([_CONNECTION, _LOGOUT], {**fields, **more})
    return event


def _modded_death(roster: Roster, text: str) -> Event | None:
    """``Steve was turned to stone by Gorgon``: a mod's death message, broadcast like
    vanilla's, about an online player (no vanilla template matched it)."""
    found = _MODDED_DEATH.fullmatch(text)
    if found is None or found[1] not in roster:
        return None
    death = {"cause": "unknown", "killer": found[2]}
    return Event([Tag.DEATH.value], {"username": found[1], "death": death})


def _learn_presence(roster: Roster, text: str) -> None:
    """``Steve issued server command: /home`` and vanilla's ``/list`` answer name online
    players (with no login time: no ``session_seconds`` for them)."""
    command = text.find(_COMMAND)
    if command > 0:
        name = text[:command]
        if chat.PLAYER_NAME.fullmatch(name):
            roster.seen(name)
    elif text.startswith("There are "):
        found = _LIST.fullmatch(text)
        if found is not None:
            for name in found[1].split(", "):
                if chat.PLAYER_NAME.fullmatch(name):
                    roster.seen(name)


def _unknown(roster: Roster, event: Event, text: str, thread: str | None) -> Event:
    """Chat that only the thread or the roster reveals; else ``event`` unchanged."""
    _learn_presence(roster, text)
    if text.startswith(_ANNOUNCES):
        found = _PLUGIN_ANNOUNCE.fullmatch(text)
        if found is not None:
            roster.learn_plugin(found[1])
    on_chat_thread = thread is not None and thread.startswith(_CHAT_THREAD)
    if not on_chat_thread and (thread is not None or not len(roster)):
        return event  # a thread other than chat's is shown, or nobody is online
    text = plain(text)
    if on_chat_thread:
        fields = chat.thread_chat(text, roster.plugins)
        if fields is not None:
            return Event([Tag.CHAT.value], fields)
        if not len(roster):
            return event
    found = chat.plugin_chat(text, roster.plugins)
    if found is not None and found[0] in roster:
        return Event([Tag.CHAT.value], {"username": found[0], "chat": found[1]})
    said = chat.say(text)
    if said is not None and said["username"] in roster:
        return Event([Tag.CHAT.value], said)
    return event
