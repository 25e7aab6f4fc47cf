"""Removing terminal colour from text: ANSI escape sequences and ``§`` colour codes.

Both helpers return their argument unchanged (the same object) when there is nothing to
remove, so callers on the hot path pay one ``in`` test per line.
"""

from __future__ import annotations

import re

# CSI sequences (ESC [ ... final byte) cover colours and cursor moves; the second branch
# takes two-character escapes (ESC c, ESC 7 ...) that some consoles emit.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")
# Minecraft formatting codes: § followed by one character (0-9, a-f, k-o, r, x for hex).
_SECTION = re.compile(r"§.?", re.DOTALL)


def strip_ansi(text: str) -> str:
    """Remove ANSI escape sequences (and a stray lone ESC) from ``text``."""
    if "\x1b" not in text:
        return text
    return _ANSI.sub("", text).replace("\x1b", "")


def strip_colour(text: str) -> str:
    """Remove ``§x`` Minecraft colour/format codes from ``text``."""
    if "§" not in text:
        return text
    return _SECTION.sub("", text)


def plain(text: str) -> str:
    """Remove both ANSI escapes and ``§`` codes: the form every extracted field takes."""
    return strip_colour(strip_ansi(text))
