"""Connection lines: Java logins and logouts, proxies and Bedrock, with their fields.

Each parser takes the message (colour already removed) and returns ``(tags, fields)`` or
None. ``login``/``logout`` go on exactly one line per session, so that counting ``login``
tags counts sessions:

* Java: ``name[/ip:port] logged in with entity id N at (x, y, z)`` is the login and
  ``name lost connection: reason`` the logout. ``joined the game`` / ``left the game``
  are ``connection`` only: every Java format we know (vanilla from Beta on, Bukkit,
  Paper, Forge, Fabric) prints the logged-in / lost-connection pair as well.
* A ``lost connection`` before login (``GameProfile@...[...,name=x,...] (/ip:port)`` or
  ``name (/ip:port)``, pre-1.7 ``name [/ip:port] lost connection``) ends no session:
  ``connection`` only, with the address. ``/ip:port lost connection`` without a name is
  a server-list ping: ``connection`` with ``ip`` and ``port``, never a logout.
* Alpha/Beta: ``name [/ip:port] logged in with entity id N`` (no coordinates) is a login.
* Velocity: ``[connected player] name (/ip:port) has connected`` / ``has disconnected``.
  BungeeCord: ``[name,/ip:port] <-> InitialHandler has connected`` (newer:
  ``[/ip:port|name]``) is the login and ``[name] -> UpstreamBridge has disconnected``
  (newer: ``[/ip:port|name]``) the logout, printed on every disconnect; ``[name]
  disconnected with: reason`` comes only with a kick, before it: ``connection`` with the
  reason. Nameless ``[/ip:port] <-> InitialHandler`` lines are handshakes (pings too):
  the login is the first line that names the player (:mod:`.proxies`, :mod:`.online`).
* Bedrock: ``Player connected: name, xuid: N`` / ``Player disconnected: ...``;
  ``Player Spawned: name xuid: N`` is ``connection`` only.

Masked addresses (``/**.**.**.**:1234``) keep their port and have no ``ip``.
"""

from __future__ import annotations

import math
import re
from typing import Any

Parsed = tuple[list[str], dict[str, Any]]

CONNECTION = "connection"
LOGIN_TAGS = ("connection", "login")
LOGOUT_TAGS = ("connection", "logout")

_LOGIN = re.compile(
    r"(?P<name>[^\s\[]+) ?\[(?P<addr>/\[[^\]]*\]:\d+|[^\]]*)\] logged in with entity id -?\d+"
    r"(?: at \((?:\[(?P<world>[^\]]*)\])?(?P<x>[^,]+), (?P<y>[^,]+), (?P<z>[^)]+)\))?"
)
# Pre-1.7 handshake drop: "name [/ip:port] lost connection" before the login completed.
_HANDSHAKE_LOST = re.compile(
    r"(?P<name>[^\s\[]+) ?\[(?P<addr>/[^\]]*)\] lost connection(?:: (?P<reason>.*))?"
)
_PRELOGIN_LOST = re.compile(
    r"(?P<who>.+?) \((?P<addr>/[^)]*)\) lost connection(?:: (?P<reason>.*))?"
)
_PROFILE_NAME = re.compile(r"\bname=([^,\]]*)")
_VELOCITY = re.compile(
    r"\[connected player\] (?P<name>\S+) \((?P<addr>[^)]*)\) has "
    r"(?P<what>connected|disconnected)(?:: (?P<reason>.*))?"
)
_BUNGEE_CONNECTED = re.compile(
    r"\[(?:(?P<name>[^,/\]|]+),(?P<addr>/[^\]]*)|(?P<addr2>/[^\]|]*)\|(?P<name2>[^\]]+))\]"
    r" <-> InitialHandler has connected"
)
_BUNGEE_UPSTREAM_GONE = re.compile(
    r"\[(?:(?P<addr>/[^\]|]*)\|)?(?P<name>[^\],/|]+)\] -> UpstreamBridge has disconnected"
)
_BUNGEE_DISCONNECTED = re.compile(r"\[(?P<name>[^\],/]+)\] disconnected with: (?P<reason>.*)")
_BEDROCK_PLAYER = re.compile(r"(?P<name>.*?)(?:,? xuid: (?P<xuid>\d+))?(?:, .*)?")
_XUID_ONLY = re.compile(r"\d{16}")


def address(addr: str) -> dict[str, Any]:
    """``ip``/``port`` of ``/1.2.3.4:5``, ``/[::1]:5``, masked ``/**.**:5``; none for ``local:``."""
    if not addr.startswith("/"):
        return {}
    host, colon, port = addr[1:].rpartition(":")
    if not colon:
        host, port = addr[1:], ""
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    fields: dict[str, Any] = {}
    if host and "*" not in host:
        fields["ip"] = host
    if port.isdigit() and int(port) <= MAX_PORT:
        fields["port"] = int(port)
    return fields


MAX_PORT = 65535
_INT64_MAX = 2**63 - 1


def location(x: str, y: str, z: str) -> dict[str, Any] | None:
    """``{x, y, z}`` as floats, or None when a value is not a finite number."""
    try:
        coords = {"x": float(x), "y": float(y), "z": float(z)}
    except ValueError:
        return None
    if not all(math.isfinite(value) for value in coords.values()):
        return None  # "1e999" would become infinity, which JSON cannot carry
    return coords


def bounded_int(text: str) -> int | None:
    """A non-negative count from the log, or None beyond 64 bits (JSON integers)."""
    value = int(text)
    return value if value <= _INT64_MAX else None


def _location(found: re.Match[str]) -> dict[str, Any] | None:
    if found["x"] is None:  # Alpha/Beta print no coordinates
        return None
    coords = location(found["x"], found["y"], found["z"])
    if coords is not None and found["world"]:
        coords["world"] = found["world"]
    return coords


def java_login(message: str) -> Parsed | None:
    """``name[/ip:port] logged in with entity id N at ([world]x, y, z)``."""
    found = _LOGIN.match(message)
    if found is None:
        return None
    fields: dict[str, Any] = {"username": found["name"], **address(found["addr"])}
    location = _location(found)
    if location is not None:
        fields["location"] = location
    return list(LOGIN_TAGS), fields


def java_lost_connection(name: str, tail: str) -> Parsed | None:
    """``name lost connection: reason``; a nameless ``/ip:port`` is a ping: ``connection``
    with its address, not a logout."""
    if not tail.startswith("lost connection"):
        return None
    reason = tail[len("lost connection: ") :] if tail.startswith("lost connection: ") else ""
    if name.startswith("/"):
        tags, fields = [CONNECTION], address(name)
    else:
        tags, fields = list(LOGOUT_TAGS), {"username": name}
    if reason:
        fields["reason"] = reason
    return tags, fields


def handshake_lost(message: str) -> Parsed | None:
    """``name [/ip:port] lost connection``: a drop before login, ``connection`` only."""
    found = _HANDSHAKE_LOST.fullmatch(message)
    if found is None:
        return None
    fields: dict[str, Any] = {"username": found["name"], **address(found["addr"])}
    if found["reason"]:
        fields["reason"] = found["reason"]
    return [CONNECTION], fields


def prelogin_lost(message: str) -> Parsed | None:
    """``GameProfile@...[...,name=x,...] (/ip:port) lost connection``: no session ended."""
    found = _PRELOGIN_LOST.fullmatch(message)
    if found is None:
        return None
    who = found["who"]
    fields: dict[str, Any] = {}
    if "GameProfile" in who:
        profile = _PROFILE_NAME.search(who)
        if profile and profile[1] and profile[1] != "<null>":
            fields["username"] = profile[1]
    elif " " not in who:
        fields["username"] = who
    fields.update(address(found["addr"]))
    if found["reason"]:
        fields["reason"] = found["reason"]
    return [CONNECTION], fields


def proxy(message: str) -> Parsed | None:
    """Velocity and BungeeCord player connections; pings and server switches are None."""
    found = _VELOCITY.fullmatch(message)
    if found is not None:
        tags = LOGIN_TAGS if found["what"] == "connected" else LOGOUT_TAGS
        fields: dict[str, Any] = {"username": found["name"], **address(found["addr"])}
        if found["reason"]:
            fields["reason"] = found["reason"]
        return list(tags), fields
    found = _BUNGEE_CONNECTED.fullmatch(message)
    if found is not None:
        name, addr = found["name"] or found["name2"], found["addr"] or found["addr2"]
        return list(LOGIN_TAGS), {"username": name, **address(addr)}
    found = _BUNGEE_UPSTREAM_GONE.fullmatch(message)
    if found is not None:
        return list(LOGOUT_TAGS), {"username": found["name"], **address(found["addr"] or "")}
    found = _BUNGEE_DISCONNECTED.fullmatch(message)
    if found is not None:
        return [CONNECTION], {"username": found["name"], "reason": found["reason"]}
    return None


def bedrock(message: str) -> Parsed | None:
    """``Player connected: name, xuid: N``, ``Player disconnected: ...``, ``Player Spawned: ...``.

    Bedrock 1.6 writes the xuid alone (``Player connected: 2535413418839840``): a bare
    16-digit value is taken as the xuid, not a name. Gamertags contain spaces.
    """
    if message.startswith("Player connected:"):
        tags, rest = list(LOGIN_TAGS), message[17:]
    elif message.startswith("Player disconnected:"):
        tags, rest = list(LOGOUT_TAGS), message[20:]
    elif message.startswith("Player Spawned:"):
        tags, rest = [CONNECTION], message[15:]
    else:
        return None
    rest = rest.strip()
    fields: dict[str, Any] = {}
    if _XUID_ONLY.fullmatch(rest):
        fields["xuid"] = rest
        return tags, fields
    found = _BEDROCK_PLAYER.fullmatch(rest)
    if found is not None:
        if found["name"]:
            fields["username"] = found["name"]
        if found["xuid"]:
            fields["xuid"] = found["xuid"]
    return tags, fields
