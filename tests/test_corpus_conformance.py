"""Every line of every shared corpus file parses; tag counts equal counts made by hand.

Each line goes through LineSplitter (agent.parse.lines), parse_header and classify, as the
reader does (continuation lines are checked with classify too: they must not raise).
The expected counts below were established by reading each file and grepping it; the
comment on each row says how. Counting rules (shared/PARSING.md): a login is a
``logged in with entity id`` line, Bedrock ``Player connected:``, Velocity
``[connected player] ... has connected``; a logout is a named ``lost connection``,
Bedrock ``Player disconnected:``, Velocity ``has disconnected`` (``/ip:port lost
connection`` pings excluded); chat is ``<name>``, ``[Server]``, ``* name``,
``[Not Secure] <``, ``[world]<name>`` after the prefix; a death is a vanilla death
wording after a player name.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from agent.parse.lines import LineSplitter
from agent.parse.minecraft import classify, parse_header

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"

# file: (login, logout, chat, death)
EXPECTED = {
    # grep: no player lines at all (server start/stop only)
    "codex__bedrock-encrypted-world.log": (0, 0, 0, 0),
    "codex__bedrock-milliseconds.log": (0, 0, 0, 0),
    "codex__bungeecord.log": (0, 0, 0, 0),
    # Player369[local:E:...] logged in / lost connection: Disconnected (joined/left: connection)
    "codex__fabric-loom-client.log": (1, 1, 0, 0),
    # JannicMitC logged in, lost connection, one <JannicMitC> chat line
    "codex__folia-1-19-4-unsupported-plugin.log": (1, 1, 1, 0),
    # NutellaGolem[local:E:ea4517a6] logged in; the client crashed: no lost connection line
    "codex__forge-log-crash-report.log": (1, 0, 0, 0),
    "codex__mohist-1-18-2.log": (0, 0, 0, 0),
    "codex__neoforge-1-20-4-server.log": (0, 0, 0, 0),
    "codex__old-vanilla-start-152.log": (0, 0, 0, 0),
    "codex__paper-exception-in-server-tick-loop-1-20-4.log": (0, 0, 0, 0),  # crash report only
    "codex__paper-start-1-20-6.log": (0, 0, 0, 0),
    # Player[/**.**.**.**:12345] logged in (masked address), then Stopping server
    "codex__spigot-chunk-load.log": (1, 0, 0, 0),
    "codex__vanilla-start-1132.log": (0, 0, 0, 0),
    "codex__velocity-multiple-spaces.log": (0, 0, 0, 0),
    # grep "Player connected:" = 2, "Player disconnected:" = 1 (Player Spawned: connection)
    "go-bds__bedrock-1.19.41.01.log": (2, 1, 0, 0),
    "go-bds__bedrock-1.21.70-beta25.log": (0, 0, 0, 0),
    # "Player connected:" 2 (one with a bare xuid, one empty), "Player disconnected:" 2
    "go-bds__bedrock-1.6.1.0.log": (2, 2, 0, 0),
    # Sirherobrine23[/[0:0:0:0:0:0:0:1]:54662] logged in (IPv6), lost connection
    "go-bds__java-1.21.4.log": (1, 1, 0, 0),
    "go-bds__java-1.7.10.log": (0, 0, 0, 0),
    # grep -c "logged in with entity id" = 42; named "lost connection" lines: robotronx 25,
    # boomshockalaka 13 = 38 (the ~80 "/198.51.100.179:port lost connection" are pings);
    # chat: 63 "[INFO] <name>" / "[INFO] [Server]" lines + 2 with ANSI before "<robotronx"
    # = 65; deaths: 4 "robotronx was slain by ..." ("RamCheck was enabled" is a plugin)
    "hexxit-home__server.log": (42, 38, 65, 4),
    # 2 logged in, 2 lost connection; chat: <vesicular>, <§bvesicular§r>, <quazifene> and
    # 3 "[Server] ..." lines = 6; deaths: the 55 lines stamped 2013-04-03 10:27:55 that
    # start with gumptionthomas (every pre-1.12 wording of mc-coal's tests)
    "mccoal__test_lines.log": (2, 2, 6, 55),
    # 2 logged in ([world] form; the same line twice), 1 lost connection; chat:
    # <Fallen_Breath> test (twice), <Fallen_Breath> !!qwq, [world_nether]<Alex> hello = 4
    "mcdr__bukkit.log": (2, 1, 4, 0),
    # 3 logged in (one _awa_), 1 lost connection; chat: <Fallen_Breath> hi forge (twice),
    # <Steve> Hello = 3 ("[Fallen_Breath: Stopping the server]" is command feedback)
    "mcdr__forge.log": (3, 1, 3, 0),
    # 1 logged in; 7 chat lines (<Steve> Hello, <[Prefix]Steve>, <Prefix Steve>, <§eAlex§r>,
    # [Not Secure] <OwO>, <Steve> <Alex> !!ping, <Steve> Steve left the game)
    "mcdr__vanilla.log": (1, 0, 7, 0),
    # Velocity: [connected player] ... has connected x2 / has disconnected x2
    "mcdr__velocity.log": (2, 2, 0, 0),
}

COUNTED = ("login", "logout", "chat", "death")


def _corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.log")) if CORPUS.is_dir() else []


def _tag_counts(path: Path) -> tuple[int, ...]:
    """Split, parse and classify every line of ``path``; count the tags of prefixed lines."""
    splitter = LineSplitter(fallback_encoding="cp1252")
    lines = splitter.feed(path.read_bytes()) + splitter.finish()
    counts = dict.fromkeys(COUNTED, 0)
    for line in lines:
        header = parse_header(line.text)
        if header is None:
            classify(line.text)  # a continuation line must not break classify either
            continue
        for tag in classify(header.message, header.level).tags:
            if tag in counts:
                counts[tag] += 1
    return tuple(counts[tag] for tag in COUNTED)


FILES = _corpus_files()


@pytest.mark.skipif(not FILES, reason="../shared/corpus not present")
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_corpus_file_counts(path: Path) -> None:
    """Login, logout, chat and death counts of each corpus file equal the hand counts."""
    assert path.name in EXPECTED, f"new corpus file {path.name}: count it and add a row"
    assert _tag_counts(path) == EXPECTED[path.name]


@pytest.mark.skipif(not FILES, reason="../shared/corpus not present")
def test_big_file_is_fast() -> None:
    """The 17k-line hexxit log parses in well under a second of CPU per 10k lines."""
    path = CORPUS / "hexxit-home__server.log"
    if not path.exists():
        pytest.skip("hexxit-home__server.log not present")
    started = time.process_time()
    _tag_counts(path)
    assert time.process_time() - started < 2.0
