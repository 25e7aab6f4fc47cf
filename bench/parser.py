"""Parser speed: parse_header and classify over the corpus lines, µs per line.

    .venv/bin/python bench/parser.py [CORPUS_DIR]
    .venv/bin/python bench/parser.py bench/out/bench-200000.log   # a generated 1.7+ log

Given a log file instead of a directory, it times that file's lines (first 50,000) and
adds classify's cost per tag set, weighted by how often each occurs.

Lines are every line of every corpus file (hexxit-home__server.log dominates: 17k of
~20k lines), decoded as UTF-8 with replacement; a second figure covers the 1.7+ lines
only (formats C/D/E/G), the shape of most modern logs.
"""

from __future__ import annotations

import sys
import timeit
from pathlib import Path

from agent.parse.minecraft import LineFormat, classify, parse_header
from agent.parse.minecraft.header import log4j_c

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
MODERN = {LineFormat.LOG4J, LineFormat.LOG4J_LOGGER, LineFormat.FORGE_DATED, LineFormat.CONSOLE}


def _lines(corpus: Path) -> list[str]:
    if corpus.is_file():
        return corpus.read_text(encoding="utf-8", errors="replace").splitlines()[:50_000]
    lines: list[str] = []
    for path in sorted(corpus.glob("*.log")):
        lines += path.read_bytes().decode("utf-8", "replace").splitlines()
    return lines


def _per_line(func, items: list, repeat: int = 5) -> float:
    """Best of ``repeat`` runs, µs per item."""
    best = min(timeit.repeat(lambda: [func(i) for i in items], number=1, repeat=repeat))
    return best / len(items) * 1e6


def main() -> None:
    """Print the figures."""
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS
    lines = _lines(corpus)
    headers = [h for h in map(parse_header, lines) if h is not None]
    messages = [h.message for h in headers]
    modern = [line for line in lines if (h := parse_header(line)) and h.format in MODERN]
    modern_messages = [parse_header(line).message for line in modern]
    print(f"corpus lines: {len(lines)}, with a prefix: {len(headers)}, 1.7+: {len(modern)}")
    print(f"parse_header, all lines:      {_per_line(parse_header, lines):.3f} µs/line")
    print(f"classify, all messages:       {_per_line(classify, messages):.3f} µs/line")
    print(f"parse_header, 1.7+ lines:     {_per_line(parse_header, modern):.3f} µs/line")
    print(f"classify, 1.7+ messages:      {_per_line(classify, modern_messages):.3f} µs/line")
    c_lines = [line for line in modern if log4j_c(line) is not None]
    if c_lines:  # parse_header's first try for format C
        print(f"log4j_c, format C lines:      {_per_line(log4j_c, c_lines):.3f} µs/line")
        print(f"parse_header, format C lines: {_per_line(parse_header, c_lines):.3f} µs/line")

    def both(line: str) -> object:
        header = parse_header(line)
        return classify(header.message if header else line, header.level if header else None)

    print(f"both, 1.7+ lines:             {_per_line(both, modern):.3f} µs/line")
    if corpus.is_file():
        _per_tag(messages)


def _per_tag(messages: list[str]) -> None:
    """classify's cost per tag set, and the mean weighted by each set's share."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for message in messages:
        groups.setdefault(tuple(classify(message).tags), []).append(message)
    total = 0.0
    for tags, group in sorted(groups.items(), key=lambda item: -len(item[1])):
        cost = _per_line(classify, group[:3000], repeat=3)
        total += cost * len(group)
        print(f"  {','.join(tags):32} {len(group) / len(messages):6.1%} {cost:.3f} µs")
    print(f"classify, weighted by share:  {total / len(messages):.3f} µs/line")


if __name__ == "__main__":
    main()
