# ruff: noqa: E501 (the log text keeps its real line lengths)
"""Write the sample logs in examples/logs/: a Paper 1.21 survival server over two days.

Day 1 (2026-11-20) is the rotated ``2026-11-20-1.log.gz``; day 2 (2026-11-21) is
``latest.log``. The text lives here; the output is deterministic (gzip mtime 0), so running
the script again gives byte-identical files. Usage: ``python scripts/make_examples.py``.
"""

from __future__ import annotations

import gzip
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "examples" / "logs"

STARTUP = """\
[{t0}] [ServerMain/INFO]: Environment: Environment[sessionHost=https://sessionserver.mojang.com, servicesHost=https://api.minecraftservices.com, name=PROD]
[{t0}] [ServerMain/INFO]: Loaded 1370 recipes
[{t0}] [ServerMain/INFO]: Loaded 1481 advancements
[{t1}] [Server thread/INFO]: Starting minecraft server version 1.21.4
[{t1}] [Server thread/INFO]: Loading properties
[{t1}] [Server thread/INFO]: This server is running Paper version 1.21.4-231-main@a8d5c3f (2026-11-02T09:14:51Z) (Implementing API version 1.21.4-R0.1-SNAPSHOT)
[{t1}] [Server thread/INFO]: Server Ping Player Sample Count: 12
[{t1}] [Server thread/INFO]: Using 4 threads for Netty based IO
[{t1}] [Server thread/WARN]: [!] The timings profiler has been enabled but has been scheduled for removal from Paper in the future.
    We recommend installing the spark profiler as a replacement: https://spark.lucko.me/
    For more information please visit: https://github.com/PaperMC/Paper/issues/8948
[{t1}] [Server thread/INFO]: Default game type: SURVIVAL
[{t1}] [Server thread/INFO]: Generating keypair
[{t1}] [Server thread/INFO]: Starting Minecraft server on *:25565
[{t1}] [Server thread/INFO]: Using epoll channel type
[{t2}] [Server thread/INFO]: Preparing level "world"
[{t3}] [Server thread/INFO]: Preparing start region for dimension minecraft:overworld
[{t3}] [Server thread/INFO]: Time elapsed: 2306 ms
[{t3}] [Server thread/INFO]: [spark] Starting background profiler...
[{t3}] [Server thread/INFO]: Done (14.218s)! For help, type "help"
"""

DAY1 = (
    STARTUP.format(t0="08:59:51", t1="08:59:53", t2="08:59:55", t3="09:00:05")
    + """\
[09:12:40] [User Authenticator #1/INFO]: UUID of player Steve is 8667ba71-b85a-4004-af54-457a9734eed7
[09:12:41] [Server thread/INFO]: Steve[/203.0.113.17:52144] logged in with entity id 214 at ([world]-112.5, 71.0, 236.5)
[09:12:41] [Server thread/INFO]: Steve joined the game
[09:14:02] [User Authenticator #2/INFO]: UUID of player Alex_42 is ec561538-f3fd-461d-aff5-086b22154bce
[09:14:03] [Server thread/INFO]: Alex_42[/[2001:db8:0:0:0:0:0:7]:40322] logged in with entity id 388 at ([world]-98.30000001192093, 70.0, 241.69999998807907)
[09:14:03] [Server thread/INFO]: Alex_42 joined the game
[09:14:15] [Async Chat Thread - #0/INFO]: <Steve> morning! heading to the mine, want to come?
[09:14:31] [Async Chat Thread - #0/INFO]: <Alex_42> sure, bring torches
[09:21:47] [Server thread/INFO]: Alex_42 has made the advancement [Acquire Hardware]
[09:33:10] [Server thread/INFO]: Steve was slain by Zombie
[09:33:22] [Async Chat Thread - #1/INFO]: <Steve> ugh, lost my pickaxe
[09:41:58] [Server thread/WARN]: Can't keep up! Is the server overloaded? Running 2345ms or 46 ticks behind
[09:52:05] [Server thread/INFO]: Alex_42 was shot by Skeleton
[10:05:44] [Server thread/INFO]: [Server] Restart at 12:00 for the plugin update
[10:31:19] [Server thread/INFO]: Steve lost connection: Disconnected
[10:31:19] [Server thread/INFO]: Steve left the game
[11:02:37] [Server thread/INFO]: Alex_42 lost connection: Timed out
[11:02:37] [Server thread/INFO]: Alex_42 left the game
[11:58:00] [Server thread/INFO]: Stopping the server
[11:58:00] [Server thread/INFO]: Stopping server
[11:58:00] [Server thread/INFO]: Saving players
[11:58:00] [Server thread/INFO]: Saving worlds
[11:58:01] [Server thread/INFO]: Saving chunks for level 'ServerLevel[world]'/minecraft:overworld
[11:58:02] [Server thread/INFO]: ThreadedAnvilChunkStorage (world): All chunks are saved
[11:58:02] [Server thread/INFO]: Flushing Chunk IO
[11:58:02] [Server thread/INFO]: Closing Thread Pool
[11:58:02] [Server thread/INFO]: Closing Server
"""
)

DAY2 = (
    STARTUP.format(t0="17:45:02", t1="17:45:04", t2="17:45:06", t3="17:45:16")
    + """\
[17:58:30] [User Authenticator #1/INFO]: UUID of player Steve is 8667ba71-b85a-4004-af54-457a9734eed7
[17:58:31] [Server thread/INFO]: Steve[/203.0.113.17:52901] logged in with entity id 97 at ([world]-140.5, 64.0, 301.5)
[17:58:31] [Server thread/INFO]: Steve joined the game
[18:01:12] [User Authenticator #2/INFO]: UUID of player _awa_ is 3c1f5e9a-2b7d-4e61-9d0a-6f8e2c4b1a77
[18:01:13] [Server thread/INFO]: _awa_[/198.51.100.23:61577] logged in with entity id 131 at ([world_nether]12.5, 80.0, -33.5)
[18:01:13] [Server thread/INFO]: _awa_ joined the game
[18:01:40] [Async Chat Thread - #0/INFO]: <_awa_> hi Steve o/
[18:02:05] [Async Chat Thread - #0/INFO]: <Steve> hey! careful, there's a fortress right by your portal
[18:03:12] [Server thread/INFO]: _awa_ was killed by Blaze using [Fireball]
[18:03:30] [Server thread/INFO]: * _awa_ sighs
[18:10:51] [Server thread/INFO]: Steve was slain by _awa_ using [Netherite Sword]
[18:10:58] [Async Chat Thread - #1/INFO]: <_awa_> sorry!! misclick
[18:15:26] [Server thread/ERROR]: Could not pass event PlayerInteractEvent to ChestShop v3.12.2
java.lang.NullPointerException: Cannot invoke "org.bukkit.inventory.ItemStack.getType()" because "item" is null
\tat com.Acrobot.ChestShop.Listeners.Player.PlayerInteract.onInteract(PlayerInteract.java:87) ~[ChestShop-3.12.2.jar:?]
\tat com.destroystokyo.paper.event.executor.asm.generated.GeneratedEventExecutor42.execute(Unknown Source) ~[?:?]
\tat org.bukkit.plugin.EventExecutor$2.execute(EventExecutor.java:77) ~[paper-api-1.21.4-R0.1-SNAPSHOT.jar:?]
\tat org.bukkit.plugin.SimplePluginManager.callEvent(SimplePluginManager.java:131) ~[paper-api-1.21.4-R0.1-SNAPSHOT.jar:?]
\tat java.base/java.lang.Thread.run(Thread.java:1583) ~[?:?]
[18:22:47] [Server thread/INFO]: Steve has made the advancement [Hot Tourist Destinations]
[18:29:03] [Server thread/WARN]: Can't keep up! Is the server overloaded? Running 5012ms or 100 ticks behind
[18:41:17] [Server thread/INFO]: _awa_ fell from a high place
[18:55:09] [Server thread/INFO]: _awa_ lost connection: Disconnected
[18:55:09] [Server thread/INFO]: _awa_ left the game
[19:20:44] [Server thread/INFO]: Steve lost connection: Disconnected
[19:20:44] [Server thread/INFO]: Steve left the game
[23:30:00] [Server thread/INFO]: Stopping the server
[23:30:00] [Server thread/INFO]: Stopping server
[23:30:00] [Server thread/INFO]: Saving players
[23:30:00] [Server thread/INFO]: Saving worlds
[23:30:02] [Server thread/INFO]: Closing Server
"""
)


def main() -> None:
    """Write both files (UTF-8, LF endings; the .gz with mtime 0 for byte-identical output)."""
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        (OUT / "2026-11-20-1.log.gz").open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed,
    ):
        packed.write(DAY1.encode())
    (OUT / "latest.log").write_bytes(DAY2.encode())


if __name__ == "__main__":
    main()
