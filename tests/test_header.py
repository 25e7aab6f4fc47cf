"""parse_header: one row per real prefix shape of shared/PARSING.md (groups A-I)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.parse.minecraft import LineFormat, parse_header

F = LineFormat

# (line, format, date, time, level, thread, logger, message)
ROWS = [
    # A pre-1.7, with Bukkit's plugin tag kept in the message
    ("2013-04-19 10:32:55 [INFO] Starting minecraft server version 1.5.2", F.PRE_1_7,
     (2013, 4, 19), (10, 32, 55, 0), "INFO", None, None,
     "Starting minecraft server version 1.5.2"),
    ("2013-08-24 20:24:51 [WARNING] [WorldGuard] Loaded", F.PRE_1_7, (2013, 8, 24),
     (20, 24, 51, 0), "WARNING", None, None, "[WorldGuard] Loaded"),
    ("2012-10-07 15:10:09 [SEVERE] Encountered an unexpected exception", F.PRE_1_7,
     (2012, 10, 7), (15, 10, 9, 0), "SEVERE", None, None, "Encountered an unexpected exception"),
    # B Forge 1.6
    ("2013-07-01 12:00:00 [FINE] [Minecraft-Server] Done (3.2s)!", F.FORGE_1_6, (2013, 7, 1),
     (12, 0, 0, 0), "FINE", None, "Minecraft-Server", "Done (3.2s)!"),
    # C 1.7+: thread names with spaces and "/" split on the last "/"
    ("[10:32:55] [Server thread/INFO]: Stopping server", F.LOG4J, None, (10, 32, 55, 0), "INFO",
     "Server thread", None, "Stopping server"),
    ("[10:32:55] [RCON Client /127.0.0.1 #2/INFO]: Thread RCON Client started", F.LOG4J, None,
     (10, 32, 55, 0), "INFO", "RCON Client /127.0.0.1 #2", None, "Thread RCON Client started"),
    ("[04:24:44] [Region Scheduler Thread #0/INFO]: JannicMitC joined the game", F.LOG4J, None,
     (4, 24, 44, 0), "INFO", "Region Scheduler Thread #0", None, "JannicMitC joined the game"),
    ("[19:21:38] [ServerMain/WARN]: ", F.LOG4J, None, (19, 21, 38, 0), "WARN", "ServerMain",
     None, ""),
    # D Forge 1.12-1.16 and Velocity (two spaces after "]:")
    ("[00:55:00] [Server thread/INFO] [minecraft/PlayerList]: Steve left the game",
     F.LOG4J_LOGGER, None, (0, 55, 0, 0), "INFO", "Server thread", "minecraft/PlayerList",
     "Steve left the game"),
    ("[11:38:16] [main/INFO] [com.velocitypowered.proxy.VelocityServer]:  Loading plugins...",
     F.LOG4J_LOGGER, None, (11, 38, 16, 0), "INFO", "main",
     "com.velocitypowered.proxy.VelocityServer", "Loading plugins..."),
    # E Forge 1.17+ / NeoForge: a full date, the month in the JVM's locale
    ("[09Jul2023 10:32:55.123] [Server thread/INFO] [net.minecraft.server.MinecraftServer/]: "
     "Stopping server", F.FORGE_DATED, (2023, 7, 9), (10, 32, 55, 123000), "INFO",
     "Server thread", "net.minecraft.server.MinecraftServer/", "Stopping server"),
    ("[05Dez2023 01:02:03.004] [main/WARN] [mixin/]: x", F.FORGE_DATED, (2023, 12, 5),
     (1, 2, 3, 4000), "WARN", "main", "mixin/", "x"),
    ("[05Mär2023 01:02:03.004] [main/WARN] [mixin/]: x", F.FORGE_DATED, (2023, 3, 5),
     (1, 2, 3, 4000), "WARN", "main", "mixin/", "x"),
    ("[05Okt.2023 01:02:03.004] [main/WARN] [mixin/]: x", F.FORGE_DATED, (2023, 10, 5),
     (1, 2, 3, 4000), "WARN", "main", "mixin/", "x"),
    # an unknown month name keeps the line and its time, without a date
    ("[05Xyz2023 01:02:03.004] [main/WARN] [mixin/]: x", F.FORGE_DATED, None, (1, 2, 3, 4000),
     "WARN", "main", "mixin/", "x"),
    # an impossible date (29 February 2023) keeps the line and its time, without a date
    ("2023-02-29 10:00:00 [INFO] x", F.PRE_1_7, None, (10, 0, 0, 0), "INFO", None, None, "x"),
    ("[2024-02-29 10:00:00 INFO] leap", F.BEDROCK, (2024, 2, 29), (10, 0, 0, 0), "INFO", None,
     None, "leap"),
    # F Fabric dev: logger in parentheses, no colon
    ("[11:44:25] [Server thread/INFO] (Minecraft) Player369 joined the game", F.FABRIC_DEV, None,
     (11, 44, 25, 0), "INFO", "Server thread", "Minecraft", "Player369 joined the game"),
    # G console (Bukkit/Paper/Velocity console), also with a logger
    ("[00:12:27 INFO]: Stopping server", F.CONSOLE, None, (0, 12, 27, 0), "INFO", None, None,
     "Stopping server"),
    ("[00:23:39 ERROR]: \tat java.base/java.io.FileWriter.<init>(FileWriter.java:96)", F.CONSOLE,
     None, (0, 23, 39, 0), "ERROR", None, None,
     "\tat java.base/java.io.FileWriter.<init>(FileWriter.java:96)"),
    ("[00:16:35 INFO] [viaversion]: ViaVersion detected", F.CONSOLE, None, (0, 16, 35, 0), "INFO",
     None, "viaversion", "ViaVersion detected"),
    # H BungeeCord, localised level names kept raw
    ("14:24:22 [INFO] Listening on /0.0.0.0:55134", F.BUNGEE, None, (14, 24, 22, 0), "INFO", None,
     None, "Listening on /0.0.0.0:55134"),
    ("14:24:22 [信息] Listening on /0.0.0.0:25577", F.BUNGEE, None, (14, 24, 22, 0), "信息", None,
     None, "Listening on /0.0.0.0:25577"),
    ("14:24:22 [警告] Forced host server pvp is not defined", F.BUNGEE, None, (14, 24, 22, 0),
     "警告", None, None, "Forced host server pvp is not defined"),
    ("14:24:22 [严重] Exception", F.BUNGEE, None, (14, 24, 22, 0), "严重", None, None,
     "Exception"),
    # I Bedrock: milliseconds optional, NO LOG FILE! prefix, bare [INFO], empty message
    ("[2023-01-01 12:00:00:123 INFO] Server started.", F.BEDROCK, (2023, 1, 1),
     (12, 0, 0, 123000), "INFO", None, None, "Server started."),
    ("[2021-09-15 10:35:25 INFO] Starting Server", F.BEDROCK, (2021, 9, 15), (10, 35, 25, 0),
     "INFO", None, None, "Starting Server"),
    ("NO LOG FILE! - [2025-01-19 23:35:13 ERROR] Error opening ops file: ops.json", F.BEDROCK,
     (2025, 1, 19), (23, 35, 13, 0), "ERROR", None, None, "Error opening ops file: ops.json"),
    ("[2022-11-16 19:34:13:052 INFO]", F.BEDROCK, (2022, 11, 16), (19, 34, 13, 52000), "INFO",
     None, None, ""),
    ("[INFO] Player connected: Steve, xuid: 2535400000000000", F.BEDROCK, None, None, "INFO",
     None, None, "Player connected: Steve, xuid: 2535400000000000"),
]  # fmt: skip


@pytest.mark.parametrize("row", ROWS, ids=[row[0][:48] for row in ROWS])
def test_prefix_shapes(row: tuple) -> None:
    """Each real prefix shape splits into format, date, time, level, thread, logger, message."""
    line, fmt, date, time, level, thread, logger, message = row
    header = parse_header(line)
    assert header is not None
    got = (header.format, header.date, header.time, header.level, header.thread, header.logger)
    assert got == (fmt, date, time, level, thread, logger)
    assert header.message == message


def test_ansi_removed_from_message_and_fields() -> None:
    """ANSI escapes go from the whole line; the message keeps its § codes."""
    line = "\x1b[36m[12:00:00 INFO]: \x1b[m<\x1b[33mSteve\x1b[m> §ahi\x1b[m"
    header = parse_header(line)
    assert header is not None
    assert (header.format, header.level) == (F.CONSOLE, "INFO")
    assert header.message == "<Steve> §ahi"


def test_section_codes_removed_from_thread() -> None:
    """A § code in a thread name is not part of the extracted field."""
    header = parse_header("[12:00:00] [§aServer thread/INFO]: x")
    assert header is not None and header.thread == "Server thread"


CONTINUATIONS = [
    "\tat net.minecraft.server.MinecraftServer.run(MinecraftServer.java:100)",
    "at net.minecraft.server.v1_13_R1.NBTTagCompound.a(SourceFile:443)",  # no leading tab
    "java.lang.IllegalArgumentException: Port value out of range: 255687",
    "---- Minecraft Crash Report ----",
    "\t- fabric 0.42.0+1.16",
    "NO LOG FILE! - setting up server logging...",
    "Jan 19, 2025 6:36:38 PM io.netty.util.internal.PlatformDependent <clinit>",
    "[Log4jPatcher] [INFO] Transforming org/apache/logging/log4j/core/lookup/JndiLookup",
    "05Jul2022 23:41:35.352] [main/INFO] [cpw.mods.modlauncher.Launcher/MODLAUNCHER]: cut",
    "Unpacking 1.21.4/server-1.21.4.jar (versions:1.21.4) to versions/1.21.4/server-1.21.4.jar",
    "Quit correctly",
    "",
    "[99:99:99] [Server thread/INFO]: not a time",
    "2013-04-19 25:00:00 [INFO] not a time",
]


@pytest.mark.parametrize("line", CONTINUATIONS)
def test_continuation_lines(line: str) -> None:
    """Lines without a recognised prefix are continuations (None)."""
    assert parse_header(line) is None


GARBAGE = [
    "\x00\x00\x00\x00",
    "[\x00\x00:\x00",
    "[12:00:00] [\x00/INFO]: \x00",
    "\ufffd\ufffd\ufffd[",
    "[",
    "[1",
    "[12:00:00",
    "NO LOG FILE! - ",
    "NO LOG FILE! - [",
    "\x1b",
    "\x1b[",
    "§",
    "12:00:00 [",
    "[12:00:00] [" + "a" * 100_000,
    "[12:00:00] [Server thread/INFO]: " + "x" * 1_000_000,
    "x" * 1_000_000,
    "[" * 100_000,
]


@pytest.mark.parametrize("line", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_never_raises(line: str) -> None:
    """Binary junk, NUL bytes, empty and 1 MB lines return a Header or None, never raise."""
    header = parse_header(line)
    assert header is None or isinstance(header.message, str)


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("[]0123456789:/ -.INFOWARN§\x1b\x00<>*abcé信"), max_size=80)
)
def test_prefix_like_text_never_raises(line: str) -> None:
    """Any text built from prefix characters parses to a Header or None, never raises."""
    header = parse_header(line)
    assert header is None or "\x1b" not in header.message
