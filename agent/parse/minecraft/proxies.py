"""Proxy lines that need the roster: BungeeCord/Waterfall steps of a login, proxy life-cycle.

A BungeeCord or Waterfall login is spread over lines: ``[/ip:port] <-> InitialHandler has
connected`` (no name yet; pings print it too), then ``[Steve] -> UpstreamBridge has
connected`` and ``[Steve] <-> ServerConnector [lobby] has connected`` (also printed on
every server switch). The parser marks each step with a ``hint``; the roster
(:mod:`agent.parse.minecraft.online`) makes the first line naming a player who is not
online the ``login``, with the address of the handshake. EaglercraftXBungee's
``[/ip:port]: Logged in as 'Steve'`` gives name and address together.

Life-cycle: ``Enabled BungeeCord version X`` and Velocity's ``Booting up Velocity X...``
are ``starting``; BungeeCord's ``Closing listener [...]`` and Velocity's ``Shutting down
the proxy...`` are ``stopping``.
"""

from __future__ import annotations

import re
from typing import Any

from agent.parse.minecraft.connections import CONNECTION, address

HANDSHAKE = "handshake"  # hint: an address without a name
ADDRESS = "address"  # hint: a name and its address before the login
PROXY_JOIN = "proxy_join"  # hint: the first line naming the player may be the login

Step = tuple[list[str], dict[str, Any], str]

_NAMELESS = re.compile(r"\[(?P<addr>/[^\]|,]*)\] <-> InitialHandler has connected")
_JOINED = re.compile(
    r"\[(?P<name>[^\],/|\s]+)\] (?:<-> ServerConnector \[[^\]]*\]|-> UpstreamBridge) has connected"
)
_EAGLER = re.compile(
    r"\[EaglercraftXBungee\] \[(?P<addr>/[^\]]*\]?[^\]]*)\]: Logged in as '(?P<name>[^']+)'"
)
_BUNGEE_START = re.compile(r"Enabled (?:BungeeCord|Waterfall|FlameCord) version (\S+)")
_VELOCITY_START = re.compile(r"Booting up Velocity (\S+?)(?: \(.*\))?\.*")


def step(message: str) -> Step | None:
    """A BungeeCord login step: ``(tags, fields, hint)``, or None."""
    found = _JOINED.fullmatch(message)
    if found is not None:
        return [CONNECTION], {"username": found["name"]}, PROXY_JOIN
    found = _NAMELESS.fullmatch(message)
    if found is not None:
        return [CONNECTION], address(found["addr"]), HANDSHAKE
    found = _EAGLER.fullmatch(message)
    if found is not None:
        return [CONNECTION], {"username": found["name"], **address(found["addr"])}, ADDRESS
    return None


def starting_version(message: str) -> str | None:
    """The version of a proxy start line, or None when ``message`` is not one."""
    found = _BUNGEE_START.fullmatch(message) or _VELOCITY_START.fullmatch(message)
    return found[1] if found is not None else None


def is_proxy_stopping(message: str) -> bool:
    """BungeeCord's ``Closing listener [...]``, Velocity's ``Shutting down the proxy...``."""
    return message.startswith("Closing listener [") or message == "Shutting down the proxy..."
