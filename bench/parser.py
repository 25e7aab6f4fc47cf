"""Parser speed: parse_header and classify over the corpus lines, µs per line.

    .venv/bin/python bench/parser.py [CORPUS_DIR]

Lines are every line of every corpus file (hexxit-home__server.log dominates: 17k of
~20k lines), decoded as UTF-8 with replacement; a second figure covers the 1.7+ lines
only (formats C/D/E/G), the shape of most modern logs.
"""

from __future__ import annotations

import sys
import timeit
from pathlib import Path

from agent.minecraft import LineFormat, classify, parse_header

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
MODERN = {LineFormat.LOG4J, LineFormat.LOG4J_LOGGER, LineFormat.FORGE_DATED, LineFormat.CONSOLE}


def _lines(corpus: Path) -> list[str]:
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
    modern = [line for line, h in zip(lines, map(parse_header, lines)) if h and h.format in MODERN]
    modern_messages = [parse_header(line).message for line in modern]
    print(f"corpus lines: {len(lines)}, with a prefix: {len(headers)}, 1.7+: {len(modern)}")
    print(f"parse_header, all lines:      {_per_line(parse_header, lines):.3f} µs/line")
    print(f"classify, all messages:       {_per_line(classify, messages):.3f} µs/line")
    print(f"parse_header, 1.7+ lines:     {_per_line(parse_header, modern):.3f} µs/line")
    print(f"classify, 1.7+ messages:      {_per_line(classify, modern_messages):.3f} µs/line")

    def both(line: str) -> object:
        header = parse_header(line)
        return classify(header.message if header else line, header.level if header else None)

    print(f"both, 1.7+ lines:             {_per_line(both, modern):.3f} µs/line")


if __name__ == "__main__":
    main()
