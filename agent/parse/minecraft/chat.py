"""Chat that is not ``<name> text``: /say since 1.19 and the chat plugins' formats. Pure.

Chat plugins (EssentialsX Chat, LuckPerms/Vault prefixes, VentureChat, ChatControl,
DiscordSRV) print ``[Member] Steve: hi``, ``Owner | Steve: hi``, ``Steve » hi``,
``[G] [Admin] Steve >> hi``. Such a line is only a candidate: whether it is chat is
decided by who may have written it (the ``[Not Secure]`` marker, the chat thread, or an
online player: :mod:`agent.parse.minecraft.online`). Text given here is already free of
ANSI escapes and ``§`` codes.
"""

from __future__ import annotations

import re
from typing import Any

# A Java account name: 3-16 of [A-Za-z0-9_] today, 1-2 characters on old accounts.
PLAYER_NAME = re.compile(r"[A-Za-z0-9_]{1,16}")
_CONFIRMED_NAME = re.compile(r"[A-Za-z0-9_]{3,16}")
_PROXY_ARROWS = ("<->", "->", "<-")

# Up to four bracketed tags ("[G] [Admin] "), then an optional plain rank ("Owner | " or
# "Owner "), the name, a separator, one space and the text. Every part is bounded, so a
# long line costs one failed match at its start.
_PLUGIN_CHAT = re.compile(
    r"(?P<tags>(?:(?:\[[^\[\]]{1,40}\]|\([^()]{1,40}\)) ?){0,4})"
    r"(?:(?P<rank>[^\s\[\]()|:»<>]{1,24}) (?:\| )?)?"
    r"(?P<name>[.~]?[A-Za-z0-9_]{1,16})"
    r"(?::| ?»| >>| >) (?P<chat>.*)",
    re.DOTALL,
)


# Plugins that log "[Plugin] Steve: ..." about players; more are learnt from the
# "Enabling X vN" lines of the server start (agent.parse.minecraft.online).
KNOWN_PLUGINS = frozenset(
    (
        "Server", "Rcon", "CONSOLE", "Console", "Essentials", "EssentialsChat",
        "EssentialsSpawn", "LuckPerms", "GriefPrevention", "WorldEdit", "WorldGuard",
        "Vault", "ViaVersion", "ProtocolLib", "Multiverse-Core", "CoreProtect", "Citizens",
        "PlaceholderAPI", "Votifier", "NuVotifier", "Jobs", "mcMMO", "AuthMe", "Geyser",
    )
)  # fmt: skip
_TAG = re.compile(r"[\[(]([^\[\]()]*)[\])]")


def plugin_chat(
    text: str, plugins: frozenset[str] | set[str] = KNOWN_PLUGINS
) -> tuple[str, str, bool] | None:
    """``(name, chat, ranked)`` when ``text`` has a chat plugin's shape, else None.

    ``ranked`` says a plain word stood before the name (``Owner Steve: hi``): such a
    line is chat only when the name is known to be an online player. A line whose
    bracketed tag is a plugin's name (``[LuckPerms] Steve: ...``) is the plugin's.
    """
    found = _PLUGIN_CHAT.fullmatch(text)
    if found is None:
        return None
    tags = found["tags"]
    if tags and any(tag in KNOWN_PLUGINS or tag in plugins for tag in _TAG.findall(tags)):
        return None
    return found["name"], found["chat"], found["rank"] is not None


def thread_chat(
    text: str, plugins: frozenset[str] | set[str] = KNOWN_PLUGINS
) -> dict[str, Any] | None:
    """Fields of a chat plugin line printed on the chat thread (no roster needed).

    The thread says a player wrote it, but plugins print there too (GriefPrevention's
    ``[GriefPrevention] Muted repeat message.``): the name must look like an account
    and no bare rank word may stand before it.
    """
    found = plugin_chat(text, plugins)
    if found is None:
        return None
    name, said, ranked = found
    if ranked or _CONFIRMED_NAME.fullmatch(name) is None:
        return None
    return {"username": name, "chat": said}


def not_secure(rest: str) -> dict[str, Any]:
    """Fields of ``[Not Secure] <rest>`` other than ``<name> text`` (which is handled with
    every angle-bracket chat): a plugin format, a /say ``[Steve] text``, else the text."""
    found = plugin_chat(rest)
    if found is not None and not found[2] and PLAYER_NAME.fullmatch(found[0]):
        return {"username": found[0], "chat": found[1]}
    said = say(rest)
    if said is not None:
        return said
    return {"chat": rest}


def say(text: str) -> dict[str, Any] | None:
    """``[Steve] hello`` (a player's /say): username and chat, when the name is valid."""
    close = text.find("] ")
    if text[:1] != "[" or close < 2:
        return None
    name = text[1:close]
    said = text[close + 2 :]
    if PLAYER_NAME.fullmatch(name) is None or said.startswith(_PROXY_ARROWS):
        return None  # BungeeCord's "[Steve] <-> DownstreamBridge ..." is not /say
    return {"username": name, "chat": said}


def relayed(text: str) -> dict[str, Any]:
    """``[Server] <rest>``: mc-coal relays web chat as ``[Server] <name> text``; the name is
    taken only when it is a valid player name (mc-coal also puts e-mail addresses there)."""
    if text[:1] == "<":
        end = text.find("> ", 1)
        if end > 0 and PLAYER_NAME.fullmatch(text[1:end]):
            return {"username": text[1:end], "chat": text[end + 2 :]}
    return {"chat": text}
