r"""Every line of every shared corpus file parses; tag counts equal counts made by hand.

Each file is read by the real EntryReader with its own ServerContext (one file, one
server), as the agent reads it; continuation lines are also run through classify (they
must not raise). The expected counts were established by reading each file and grepping
it; the comment on each row says how. Counting rules (shared/PARSING.md): a login is a
``logged in with entity id`` line (Beta's ``name [/ip:port] logged in`` too), Bedrock
``Player connected:``, Velocity ``[connected player] ... has connected``, BungeeCord's
first line naming the player; a logout is a named ``lost connection``, Bedrock ``Player
disconnected:``, Velocity ``has disconnected``, BungeeCord ``-> UpstreamBridge has
disconnected``, or ``left the game`` ending a session no ``lost connection`` ended
(``/ip:port lost connection`` pings and ``(/ip:port)`` drops excluded); chat is
``<name>``, ``[Server]``, ``[CONSOLE]``, ``* name``, ``[Not Secure] ...``, ``[world]<name>``,
and chat-plugin lines on ``Async Chat Thread``; a death is a death wording after a player
name (vanilla or a mod's) or a villager's / named entity's death; starting and stopping
are counted per line (a vanilla stop prints both ``Stopping the server`` and ``Stopping
server``; Beta prints ``Stopping the server..`` and ``Stopping server``).

Greps below: ``S`` = ``grep -cE "(\]:? |\) |\] )(Starting (integrated )?minecraft server
version |Starting Server$|Enabled BungeeCord version |Booting up Velocity )"`` and ``T`` =
``grep -cE "(\]:? |\) |\] )(Stopping server|Stopping the server|Stopping server\.\.\.|
Stopping the server\.\.|Shutting down the proxy\.\.\.)\s*$|(\] )Closing listener \["``.
"""

from __future__ import annotations

import time
from datetime import UTC, date
from pathlib import Path

import pytest

from agent.parse.lines import LineSplitter
from agent.parse.minecraft import classify, parse_header
from agent.parse.reader import EntryReader, ReaderOptions, ServerContext

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"

# file: (login, logout, chat, death, starting, stopping)
EXPECTED = {
    # grep: no player lines at all; S = 1 ("Starting Server"), T = 0
    "codex__bedrock-encrypted-world.log": (0, 0, 0, 0, 1, 0),
    "codex__bedrock-milliseconds.log": (0, 0, 0, 0, 1, 0),
    # S = 1 ("Enabled BungeeCord version"); T = 2: two listeners, one "Closing listener" each
    "codex__bungeecord.log": (0, 0, 0, 0, 1, 2),
    # Player369[local:E:...] logged in / lost connection: Disconnected (joined/left:
    # connection); "Starting integrated minecraft server version" S = 1, T = 1
    "codex__fabric-loom-client.log": (1, 1, 0, 0, 1, 1),
    # JannicMitC logged in, lost connection, one <JannicMitC> chat line; S = 1, T = 2
    "codex__folia-1-19-4-unsupported-plugin.log": (1, 1, 1, 0, 1, 2),
    # NutellaGolem[local:E:ea4517a6] logged in; the client crashed: no lost connection
    # line; S = 1 (integrated server), T = 1
    "codex__forge-log-crash-report.log": (1, 0, 0, 0, 1, 1),
    "codex__mohist-1-18-2.log": (0, 0, 0, 0, 1, 1),  # S = 1, T = 1
    "codex__neoforge-1-20-4-server.log": (0, 0, 0, 0, 1, 0),  # S = 1
    "codex__old-vanilla-start-152.log": (0, 0, 0, 0, 1, 0),  # S = 1
    "codex__paper-exception-in-server-tick-loop-1-20-4.log": (0, 0, 0, 0, 0, 0),  # crash only
    "codex__paper-start-1-20-6.log": (0, 0, 0, 0, 1, 0),  # S = 1
    # Player[/**.**.**.**:12345] logged in (masked address), then Stopping server; S = 1
    "codex__spigot-chunk-load.log": (1, 0, 0, 0, 1, 1),
    "codex__vanilla-start-1132.log": (0, 0, 0, 0, 1, 0),  # S = 1
    # 8 lines; S misses "]:  Booting up Velocity 3.3.0-SNAPSHOT" (two spaces after the
    # prefix): grep -c "Booting up Velocity" = 1
    "codex__velocity-multiple-spaces.log": (0, 0, 0, 0, 1, 0),
    # grep "Player connected:" = 2, "Player disconnected:" = 1 (Player Spawned:
    # connection); S = 1
    "go-bds__bedrock-1.19.41.01.log": (2, 1, 0, 0, 1, 0),
    "go-bds__bedrock-1.21.70-beta25.log": (0, 0, 0, 0, 1, 1),  # S = 1, "Stopping server..."
    # "Player connected:" 2 (one with a bare xuid, one empty), "Player disconnected:" 2
    "go-bds__bedrock-1.6.1.0.log": (2, 2, 0, 0, 1, 0),
    # Sirherobrine23[/[0:0:0:0:0:0:0:1]:54662] logged in (IPv6), lost connection; S = 1
    "go-bds__java-1.21.4.log": (1, 1, 0, 0, 1, 0),
    "go-bds__java-1.7.10.log": (0, 0, 0, 0, 1, 0),  # S = 1
    # grep -c "logged in with entity id" = 42; named "lost connection" lines: robotronx 25,
    # boomshockalaka 13 = 38 (the ~80 "/198.51.100.179:port lost connection" are pings);
    # chat: 63 "[INFO] <name>" / "[INFO] [Server]" lines + 2 with ANSI before "<robotronx"
    # = 65; deaths: 4 "robotronx was slain by ..." ("RamCheck was enabled" is a plugin);
    # S = 24 server starts, T = 44 (22 stops, each "Stopping the server" + "Stopping server")
    "hexxit-home__server.log": (42, 38, 65, 4, 24, 44),
    # 2 logged in, 2 lost connection; chat: <vesicular>, <§bvesicular§r>, <quazifene> and
    # 3 "[Server] ..." lines = 6; deaths: the 55 lines stamped 2013-04-03 10:27:55 that
    # start with gumptionthomas (every pre-1.12 wording of mc-coal's tests); S = 1, T = 1
    "mccoal__test_lines.log": (2, 2, 6, 55, 1, 1),
    # 2 logged in ([world] form; the same line twice), 1 lost connection + line 94: a
    # "left the game" after the second login with no lost connection = 2 logouts; chat:
    # <Fallen_Breath> test (twice), <Fallen_Breath> !!qwq, [world_nether]<Alex> hello = 4;
    # S = 2, T = 3
    "mcdr__bukkit.log": (2, 2, 4, 0, 2, 3),
    # 3 logged in (one _awa_), 1 lost connection; chat: <Fallen_Breath> hi forge (twice),
    # <Steve> Hello = 3 ("[Fallen_Breath: Stopping the server]" is command feedback);
    # S = 2, T = 2
    "mcdr__forge.log": (3, 1, 3, 0, 2, 2),
    # 1 logged in; 7 chat lines (<Steve> Hello, <[Prefix]Steve>, <Prefix Steve>, <§eAlex§r>,
    # [Not Secure] <OwO>, <Steve> <Alex> !!ping, <Steve> Steve left the game); S = 2, T = 3
    # ("[Fallen_Breath: Stopping the server]" is command feedback, not counted)
    "mcdr__vanilla.log": (1, 0, 7, 0, 2, 3),
    # Velocity: [connected player] ... has connected x2 / has disconnected x2; S = 1, T = 1
    "mcdr__velocity.log": (2, 2, 0, 0, 1, 1),
    # --- field/: real servers with players ---
    # grep -c "logged in with entity id" = 39 (a human and a mineflayer bot); 39 named
    # "lost connection: Disconnected"; 247 "]: <name> " lines (read: bot replies and
    # !spawn commands, all chat); deaths: grep of the death wordings = 31 (Zombie, Iron
    # Golem, Skeleton, PvP); S = 1, T = 1
    "field/buddybot-2.0__vanilla-1.16.5-2025-11-12-6.log": (39, 39, 247, 31, 1, 1),
    # 63 "logged in with entity id"; 63 named "lost connection" (the 3 "GameProfile@...
    # (/ip:port) lost connection" excluded); chat: 808 lines on "Async Chat Thread - #N"
    # minus 4 "[GriefPrevention] Muted repeat message." and 2 "[Essentials] Permissions lag
    # notice" = 802, plus 3 "[Server] ..." = 805; deaths: 18 players + 2 "Villager ...
    # died, message:" = 20 (grep of the death wordings); S = 1, T = 2
    "field/dook-server__paper-1.16.4-2020-12-15-4.log": (63, 63, 805, 20, 1, 2),
    # 29 "[EaglercraftXBungee] ... Logged in as 'X'" sessions, each followed by "[X] ->
    # UpstreamBridge has connected" (the login: the first line naming the player; the
    # "<-> ServerConnector [lobby]" after it is not a second login): grep -c = 29; 29 "->
    # UpstreamBridge has disconnected"; no chat on a proxy; S = 2 ("Enabled BungeeCord
    # version"), T = 2 ("Closing listener [", one listener, two stops)
    "field/eaglercraftx-1.19__bungeecord-proxy.log": (29, 29, 0, 0, 2, 2),
    # 20 "logged in with entity id" (IPv6 loopback), 20 named "lost connection" (3
    # GameProfile lines excluded); 33 "<name>" lines, all on Async Chat Thread; 27 deaths
    # (grep of the wordings: Zombie, Spider, PvP); S = 1, T = 1
    "field/eaglercraftx-1.19__paper-1.19-latest.log": (20, 20, 33, 27, 1, 1),
    # 19 "alecgorge [/127.0.0.1:port] logged in with entity id N" (Beta: space, no coords);
    # 6 "alecgorge lost connection: disconnect.*" (the other sessions end at a stop with
    # no line); chat: 1 "<alecgorge> ime" ("CONSOLE: ..." lines are command feedback);
    # S = 116 "Starting minecraft server version Beta 1.3"; T = 220: 110 "Stopping the
    # server.." + 110 "Stopping server" ("CONSOLE: Stopping the server.." not counted)
    "field/jsonapi__craftbukkit-beta-1.3-server.log": (19, 6, 1, 0, 116, 220),
    # 3 "logged in with entity id" (joined printed before it), 3 "lost connection" (the
    # GameProfile line excluded); no chat; deaths: 12 PvP "was shot by"/"was blown up by" +
    # 4 "Villager ... died, message:" + 1 "Named entity Starbuncle[...] died:" = 17;
    # S = 1, T = 1 ("[Rcon: Stopping the server]" is command feedback)
    "field/mc-kokomo__ketting-1.20.1-latest.log": (3, 3, 0, 17, 1, 1),
    # 6 "logged in with entity id", 6 "lost connection"; 16 "[Not Secure] <name>" lines;
    # deaths: 8 vanilla wordings + 8 Gorgon ones ("was turned to stone by", "was turned
    # into gorgonzola by": a mod's, read) + 8 villager deaths = 24; S = 1, T = 0
    "field/minecraft-docker__forge-1.20.1-2024-02-20-1.log": (6, 6, 16, 24, 1, 0),
    # 19 "logged in with entity id", 19 "lost connection"; 53 lines on Async Chat Thread,
    # all "[Not Secure] [Member] Name >> msg" or "[Member] Name >> msg"; deaths: 3 players
    # + 4 villagers = 7; starts mid-run: S = 0, T = 2
    "field/sakulawargi__paper-survival-2025-01-23-1.log": (19, 19, 53, 7, 0, 2),
    # Velocity: grep -c "\[connected player\] .* has connected" = 25, "has disconnected" =
    # 25 ("[server connection] X -> lobby" switches are not logins); no start (mid-run);
    # T = 1 "Shutting down the proxy..."
    "field/sakulawargi__velocity-proxy-2025-01-23-1.log": (25, 25, 0, 0, 0, 1),
    # Forge 1.5.2: 2 "logged in with entity id", 2 "lost connection: disconnect.*" (1
    # nameless "/ip:port lost connection" ping excluded); S = 1, T = 0
    "field/tekkit-home__forge-1.5.2-ForgeModLoader-server-0.log": (2, 2, 0, 0, 1, 0),
}

COUNTED = ("login", "logout", "chat", "death", "starting", "stopping")


def _corpus_files() -> list[Path]:
    """Every ``.log`` of the corpus and of ``field/`` (the keys of EXPECTED)."""
    if not CORPUS.is_dir():
        return []
    return sorted([*CORPUS.glob("*.log"), *CORPUS.glob("field/*.log")])


def _key(path: Path) -> str:
    return path.relative_to(CORPUS).as_posix()


def _tag_counts(path: Path) -> tuple[int, ...]:
    """Read ``path`` as one server's file; count the six tags over its entries."""
    data = path.read_bytes()
    reader = EntryReader(
        server_id="s",
        fingerprint="f",
        options=ReaderOptions(fallback_encoding="cp1252", timezone=UTC),
        date_hint=date(2026, 1, 1),
        context=ServerContext(),
    )
    counts = dict.fromkeys(COUNTED, 0)
    for entry in reader.feed(data) + reader.finish():
        for tag in entry.tags:
            if tag in counts:
                counts[tag] += 1
    splitter = LineSplitter(fallback_encoding="cp1252")
    for line in splitter.feed(data) + splitter.finish():
        if parse_header(line.text) is None:
            classify(line.text)  # a continuation line must not break classify either
    return tuple(counts[tag] for tag in COUNTED)


FILES = _corpus_files()


@pytest.mark.skipif(not FILES, reason="../shared/corpus not present")
@pytest.mark.parametrize("path", FILES, ids=[_key(p) for p in FILES])
def test_corpus_file_counts(path: Path) -> None:
    """Login, logout, chat, death, starting and stopping counts equal the hand counts."""
    assert _key(path) in EXPECTED, f"new corpus file {_key(path)}: count it and add a row"
    assert dict(zip(COUNTED, _tag_counts(path), strict=True)) == dict(
        zip(COUNTED, EXPECTED[_key(path)], strict=True)
    )


@pytest.mark.skipif(not FILES, reason="../shared/corpus not present")
def test_big_file_is_fast() -> None:
    """The 17k-line hexxit log parses in well under a second of CPU per 10k lines."""
    path = CORPUS / "hexxit-home__server.log"
    if not path.exists():
        pytest.skip("hexxit-home__server.log not present")
    started = time.process_time()
    _tag_counts(path)
    assert time.process_time() - started < 2.0
