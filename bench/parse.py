# ruff: noqa: E501 (generated log lines keep their real lengths)
"""Benchmark of ``serverops-agent parse``: a realistic 1,000,000-line 1.7+ log, to /dev/null.

    .venv/bin/python bench/parse.py                 # generate (once) and time the command
    .venv/bin/python bench/parse.py --stages        # also the cost of each stage, in-process
    .venv/bin/python bench/parse.py --lines 200000  # a smaller log

The log goes to bench/out/ (ignored by git, regenerated when missing). It mixes what a
busy Paper server writes: plugin and command chatter, chat, joins and leaves with their
UUID / logged-in / lost-connection lines, deaths with killers and items, advancements,
"Can't keep up" warnings, restarts with their startup banner, and errors with stack traces.
The command runs as a subprocess; wall time, CPU time (user + sys of the child) and lines/s
are printed. (bench/parser.py times the parser alone on the corpus lines.)
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
PLAYERS = [f"{name}{n}" for n in range(40) for name in ("Steve", "Alex_", "xX_Miner", "_awa_")]
MOBS = ["Zombie", "Skeleton", "Creeper", "Spider", "Enderman", "Blaze", "Drowned", "Pillager"]
ITEMS = ["Netherite Sword", "Diamond Axe", "Bow", "Trident", "Crossbow"]
STARTUP = [
    "[ServerMain/INFO]: Environment: Environment[sessionHost=https://sessionserver.mojang.com, servicesHost=https://api.minecraftservices.com, name=PROD]",
    "[ServerMain/INFO]: Loaded 1370 recipes",
    "[ServerMain/INFO]: Loaded 1481 advancements",
    "[Server thread/INFO]: Starting minecraft server version 1.21.4",
    "[Server thread/INFO]: Loading properties",
    "[Server thread/INFO]: This server is running Paper version 1.21.4-231-main@a8d5c3f (Implementing API version 1.21.4-R0.1-SNAPSHOT)",
    "[Server thread/INFO]: Using 4 threads for Netty based IO",
    "[Server thread/INFO]: Default game type: SURVIVAL",
    "[Server thread/INFO]: Starting Minecraft server on *:25565",
    '[Server thread/INFO]: Preparing level "world"',
    "[Server thread/INFO]: Preparing start region for dimension minecraft:overworld",
    "[Server thread/INFO]: Time elapsed: 2306 ms",
    '[Server thread/INFO]: Done (14.218s)! For help, type "help"',
]
TRACE = [
    "[Server thread/ERROR]: Could not pass event PlayerInteractEvent to ChestShop v3.12.2",
    'java.lang.NullPointerException: Cannot invoke "org.bukkit.inventory.ItemStack.getType()" because "item" is null',
    *[
        f"\tat com.example.plugin.Listener{n}.onEvent(Listener{n}.java:{40 + n}) ~[plugin.jar:?]"
        for n in range(12)
    ],
    "\tat java.base/java.lang.Thread.run(Thread.java:1583) ~[?:?]",
]
CHAT = [
    "hi all",
    "anyone want to trade diamonds?",
    "lol",
    "brb",
    "where is the nether portal?",
    "gg",
    "can someone tp me to spawn please, I got lost in the jungle",
]
CHATTER = [
    "{p} issued server command: /home base",
    "[Essentials] {p} was teleported to spawn",
    "[LuckPerms] Saved data for {p}",
    "Saving the game (this may take a moment!)",
    "Saved the game",
    "[CoreProtect] Data purge completed",
    "[dynmap] Full render of map 'flat' on world 'world' completed - 4096 tiles rendered.",
]
WARNINGS = [
    "{p} moved too quickly! 12.4,0.0,9.1",
    "{p} moved wrongly!",
    "[Essentials] Economy backend is slow",
]


def _session_lines(rng: random.Random, player: str) -> list[str]:
    ip = f"203.0.{rng.randrange(256)}.{rng.randrange(1, 255)}:{rng.randrange(1024, 65535)}"
    uuid = f"{rng.getrandbits(128):032x}"
    uuid = f"{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:]}"
    return [
        f"[User Authenticator #1/INFO]: UUID of player {player} is {uuid}",
        f"[Server thread/INFO]: {player}[/{ip}] logged in with entity id {rng.randrange(9999)} at ([world]{rng.uniform(-500, 500):.1f}, 64.0, {rng.uniform(-500, 500):.1f})",
        f"[Server thread/INFO]: {player} joined the game",
    ]


def _event(rng: random.Random) -> list[str]:
    """One event, as the lines (without their time) it writes, in realistic proportions."""
    player = rng.choice(PLAYERS)
    roll = rng.random()
    if roll < 0.34:
        return [f"[Async Chat Thread - #{rng.randrange(4)}/INFO]: <{player}> {rng.choice(CHAT)}"]
    if roll < 0.62:
        return [f"[Server thread/INFO]: {rng.choice(CHATTER).format(p=player)}"]
    if roll < 0.68:
        return _session_lines(rng, player)
    if roll < 0.74:
        return [
            f"[Server thread/INFO]: {player} lost connection: Disconnected",
            f"[Server thread/INFO]: {player} left the game",
        ]
    if roll < 0.78:
        if rng.random() < 0.5:
            return [f"[Server thread/INFO]: {player} was slain by {rng.choice(MOBS)}"]
        other = rng.choice(PLAYERS)
        return [f"[Server thread/INFO]: {player} was slain by {other} using [{rng.choice(ITEMS)}]"]
    if roll < 0.79:
        return [f"[Server thread/INFO]: {player} has made the advancement [Acquire Hardware]"]
    if roll < 0.81:
        ms = rng.randrange(2000, 9000)
        return [
            f"[Server thread/WARN]: Can't keep up! Is the server overloaded? Running {ms}ms or {ms // 50} ticks behind"
        ]
    if roll < 0.9999:
        return [f"[Server thread/WARN]: {rng.choice(WARNINGS).format(p=player)}"]
    return STARTUP


def generate(path: Path, total: int, seed: int = 7) -> None:
    """Write ``total`` lines of a realistic log to ``path`` (an error with a trace ~every 700 events)."""
    rng = random.Random(seed)
    written = 0
    second = 8 * 3600
    with path.open("w", encoding="utf-8") as out:
        while written < total:
            lines = TRACE if rng.random() < 0.0015 else _event(rng)
            second = (second + rng.randrange(0, 2)) % 86400
            stamp = f"[{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}] "
            for line in lines[: total - written]:
                out.write((line if line[0] != "[" else stamp + line) + "\n")
                written += 1


def time_command(path: Path, lines: int, runs: int) -> None:
    """Run ``serverops-agent parse`` on the log to /dev/null; print wall, CPU, lines/s."""
    command = [
        str(ROOT / ".venv" / "bin" / "serverops-agent"),
        "parse",
        str(path),
        "--server-id",
        "bench",
        "--timezone",
        "Europe/Berlin",
        "--date",
        "2026-11-21",
    ]
    print("command: serverops-agent", " ".join(command[1:]), "> /dev/null")
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(
            f"wall {wall:.2f} s, cpu {cpu:.2f} s, {lines / wall:,.0f} lines/s wall, "
            f"{lines / cpu:,.0f} lines/s cpu, peak RSS {after.ru_maxrss / 1024:.0f} MB"
        )


def _chunks(data: bytes, size: int = 256 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def stages(path: Path, lines: int) -> None:
    """CPU per line of each stage, in-process; each row includes the rows above it."""
    sys.path.insert(0, str(ROOT))
    from zoneinfo import ZoneInfo

    import orjson

    from agent.encode.body import encode_lines, to_body
    from agent.parse.lines import LineSplitter
    from agent.parse.minecraft import classify, parse_header
    from agent.parse.minecraft.header import log4j_c
    from agent.parse.reader import EntryReader, ReaderOptions

    data = path.read_bytes()
    options = ReaderOptions(timezone=ZoneInfo("Europe/Berlin"))

    def split() -> None:
        splitter = LineSplitter()
        for chunk in _chunks(data):
            splitter.feed(chunk)

    def prefix(text: str) -> tuple[str, str | None] | None:
        """(message, level) as the reader gets them: format C by log4j_c, else parse_header."""
        fused = log4j_c(text)
        if fused is not None:
            return fused[3], fused[1]
        header = parse_header(text)
        return None if header is None else (header.message, header.level)

    def headers() -> None:
        splitter = LineSplitter()
        for chunk in _chunks(data):
            for line in splitter.feed(chunk):
                prefix(line.text)

    def classified() -> None:
        splitter = LineSplitter()
        for chunk in _chunks(data):
            for line in splitter.feed(chunk):
                found = prefix(line.text)
                if found is not None:
                    classify(*found)

    def read(after: Callable[[list], object] = lambda entries: None) -> Callable[[], None]:
        def run() -> None:
            reader = EntryReader(server_id="bench", fingerprint="f" * 32, options=options)
            for chunk in _chunks(data):
                after(reader.feed(chunk))
            after(reader.finish())

        return run

    steps = [
        ("split lines (agent/parse/lines.py)", split),
        ("+ prefix (log4j_c, else parse_header)", headers),
        ("+ classify", classified),
        ("EntryReader: + multiline, dates, uuids, Entry", read()),
        ("+ to_body (dicts)", read(lambda entries: [to_body(e) for e in entries])),
        ("+ orjson.dumps", read(lambda entries: [orjson.dumps(to_body(e)) for e in entries])),
        ("+ encode_lines (what the command runs)", read(encode_lines)),
    ]
    for name, step in steps:
        start = time.process_time()
        step()
        cpu = time.process_time() - start
        print(f"{name:48s} {cpu * 1e6 / lines:6.2f} µs/line  {lines / cpu:>10,.0f} lines/s")


def main() -> None:
    """Generate the log if needed, then time the command (and the stages if asked)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stages", action="store_true", help="also time each stage in-process")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    path = OUT / f"bench-{args.lines}.log"
    if not path.exists():
        generate(path, args.lines)
    size = path.stat().st_size
    print(f"log: {path.relative_to(ROOT)} ({args.lines:,} lines, {size / 1e6:.0f} MB)")
    time_command(path, args.lines, args.runs)
    if args.stages:
        stages(path, args.lines)


if __name__ == "__main__":
    main()
