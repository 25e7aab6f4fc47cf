"""Per-tag precision and recall of the parser over the shared corpus, line by line.

The reference ("what the line is") comes from the grep-style rules below, written from
reading the corpus files and kept apart from the parser's code: plain patterns over a
line's message, plus the few lines a pattern cannot judge, listed by file and line number
with the reason (``JUDGED``). The parser's answer comes from the real reader
(:class:`agent.parse.reader.EntryReader`, one :class:`ServerContext` per file, as one
server). A line counts for a tag when the entry starting at that line carries it.

    python scripts/corpus_scores.py            # table over ../shared/corpus (recursively)
    python scripts/corpus_scores.py --misses   # also every line where the two disagree
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from datetime import UTC, date
from pathlib import Path

from agent.parse.minecraft import parse_header
from agent.parse.minecraft.text import plain
from agent.parse.reader import EntryReader, ReaderOptions, ServerContext

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
TAGS = ("login", "logout", "chat", "death", "starting", "stopping")

_LOGIN = re.compile(
    r"^\S+ ?\[(?:/\[[^\]]*\]:\d+|[^\]]*)\] logged in with entity id"
    r"|^\[connected player\] \S+ \([^)]*\) has connected$"
    r"|^Player connected:"
    r"|^\[[^\]/,|]+,/[^\]]*\] <-> InitialHandler has connected$"
    r"|^\[/[^\]|]*\|[^\]]+\] <-> InitialHandler has connected$"
    # EaglercraftXBungee: each websocket session names its player first on this line
    r"|^\[[^\]/]+\] -> UpstreamBridge has connected$"
)
_LOGOUT = re.compile(
    r"^[A-Za-z0-9_.~]+ lost connection"  # named; "/ip:port" pings and "(/" drops excluded
    r"|^\[connected player\] \S+ \([^)]*\) has disconnected"
    r"|^Player disconnected:"
    r"|^\[[^\]]+\] -> UpstreamBridge has disconnected$"
)
_CHAT = re.compile(
    r"^<[^>]*> |^\[Server\] |^\[CONSOLE\] |^\* \S+ |^\[Not Secure\] |^\[[^\]]+\]<[^>]+> "
)
_DEATH = re.compile(
    r"^[A-Za-z0-9_]+ (?:was (?:slain|shot|blown up|killed|fireballed|pummeled|squashed|"
    r"pricked|impaled|stung|poked|struck|doomed|squished|skewered|obliterated|burnt|frozen|blown|"
    r"turned|roasted|knocked|burned)|fell |tried to swim in lava|drowned|hit the ground too "
    r"hard|burned to death|went up in flames|walked into|suffocated|starved|withered away|"
    r"experienced kinetic|blew up|died|discovered|froze to death|got finished off|went off "
    r"with a bang|didn't want to live|left the confines)"
    r"|^Villager \S+\[.*\] died, message: '|^Named entity \S+\[.*\] died: "
)
_STARTING = re.compile(
    r"^Starting (?:integrated )?minecraft server version |^Starting Server$"
    r"|^Enabled BungeeCord version |^Booting up Velocity "
)
_STOPPING = re.compile(
    r"^(?:Stopping server|Stopping the server|Stopping server\.\.\.|Stopping the server\.\.)$"
    r"|^Closing listener \[|^Shutting down the proxy\.\.\.$"
)
# Lines the patterns cannot judge, judged by reading: (file, 1-based line) -> tags to
# add (+) or remove (-).
JUDGED: dict[tuple[str, int], tuple[str, ...]] = {
    # A login line, then "left the game" with no lost connection (MCDR's test lines):
    # the session ends here.
    ("mcdr__bukkit.log", 94): ("+logout",),
    # mc-coal's death list has lines a pattern cannot tell apart ("was killed by magic")
}
# On the chat thread, plugin lines (read one by one) are not chat; every other line there
# is a player's message in the server's chat plugin format.
_CHAT_THREAD_PLUGINS = ("[GriefPrevention] ", "[Essentials] ")


def reference(message: str, thread: str | None) -> set[str]:
    """The tags a reader of the corpus gives a line's message (see the module docstring)."""
    text = plain(message)
    tags = set()
    for tag, pattern in (
        ("login", _LOGIN), ("logout", _LOGOUT), ("chat", _CHAT), ("death", _DEATH),
        ("starting", _STARTING), ("stopping", _STOPPING),
    ):  # fmt: skip
        if pattern.search(text):
            tags.add(tag)
    if (
        thread
        and thread.startswith("Async Chat Thread")
        and not text.startswith(_CHAT_THREAD_PLUGINS)
    ):
        tags.add("chat")
    if "chat" in tags:
        tags = {"chat"}  # chat wins: "<Alice> Bob joined the game"
    return tags


def scores(path: Path) -> tuple[Counter[str], list[str]]:
    """Counts of ``tp:tag``/``fp:tag``/``fn:tag`` for one file, and the disagreements."""
    reader = EntryReader(
        server_id="s",
        fingerprint="f",
        options=ReaderOptions(fallback_encoding="cp1252", timezone=UTC),
        date_hint=date(2026, 1, 1),
        context=ServerContext(),
    )
    data = path.read_bytes()
    entries = reader.feed(data) + reader.finish()
    line_of = _line_numbers(data)
    counts: Counter[str] = Counter()
    misses: list[str] = []
    for entry in entries:
        first = entry.line.split("\n", 1)[0]
        header = parse_header(first)
        truth = set() if header is None else reference(header.message, header.thread)
        number = line_of[entry.offset]
        for change in JUDGED.get((path.name, number), ()):
            (truth.add if change[0] == "+" else truth.discard)(change[1:])
        got = {tag for tag in entry.tags if tag in TAGS}
        for tag in TAGS:
            kind = {(True, True): "tp", (False, True): "fp", (True, False): "fn"}.get(
                (tag in truth, tag in got)
            )
            if kind is not None:
                counts[f"{kind}:{tag}"] += 1
                if kind != "tp":
                    misses.append(f"{kind} {tag:8} {path.name}:{number}: {first[:150]}")
    return counts, misses


def _line_numbers(data: bytes) -> dict[int, int]:
    """Byte offset of each line start -> its 1-based line number."""
    numbers = {0: 1}
    position = data.find(b"\n")
    number = 1
    while position >= 0:
        number += 1
        numbers[position + 1] = number
        position = data.find(b"\n", position + 1)
    return numbers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=CORPUS)
    parser.add_argument("--misses", action="store_true", help="print every disagreement")
    args = parser.parse_args()
    files = sorted(args.corpus.rglob("*.log")) if args.corpus.is_dir() else []
    if not files:
        print(f"no corpus at {args.corpus}", file=sys.stderr)
        return 1
    total: Counter[str] = Counter()
    for path in files:
        counts, misses = scores(path)
        total += counts
        if args.misses:
            print("\n".join(misses)) if misses else None
    print(f"{len(files)} files\n| tag | reference | tagged | correct | precision | recall |")
    print("|---|---|---|---|---|---|")
    for tag in TAGS:
        tp, fp, fn = total[f"tp:{tag}"], total[f"fp:{tag}"], total[f"fn:{tag}"]
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        print(f"| {tag} | {tp + fn} | {tp + fp} | {tp} | {precision:.4f} | {recall:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
