"""Which encoding a log that is not UTF-8 is in, guessed once per file from its bytes. Pure.

When a server's ``encoding`` is not set, the first line of a file that is not UTF-8
triggers one detection (agent/parse/lines.py): on a bounded sample of the file's
non-UTF-8 lines (:func:`non_utf8_sample`: the lines that fail UTF-8 among the bytes at
hand, at most :data:`SAMPLE_BYTES`), by charset-normalizer (pure Python, deterministic:
the same sample always gives the same answer), whose answer the file keeps.

Short, repetitive samples are ambiguous: a BungeeCord log in GBK whose only non-ASCII
text is ``[信息]`` reads as cp949 (Korean) just as well. So the candidates
charset-normalizer finds plausible are tried in its order, and the first whose decoding
shows a level name Java prints in some locale (``[信息]``, ``[資訊]``, ``[情報]``,
``[정보]``, ``[ИНФОРМАЦИЯ]``, ...) wins; without one, its best guess does.
"""

from __future__ import annotations

import codecs
import logging
import re

from charset_normalizer import from_bytes

SAMPLE_BYTES = 32 * 1024

# Level names java.util.logging prints in the locales whose encodings are not ASCII-only.
_LOCALISED_LEVEL = re.compile(
    r"\[(信息|警告|严重|資訊|嚴重|情報|重大|정보|경고|심각|ИНФОРМАЦИЯ|ПРЕДУПРЕЖДЕНИЕ|СЕРЬЕЗНО)\]"
)
_UTF8_NAMES = frozenset({"utf_8", "ascii"})

# charset-normalizer logs its reasoning at debug level; the agent's debug log is ours.
logging.getLogger("charset_normalizer").setLevel(logging.WARNING)


def non_utf8_sample(data: bytes, limit: int = SAMPLE_BYTES) -> bytes:
    """The lines of ``data`` that are not valid UTF-8, joined by newlines, at most
    ``limit`` bytes (a cut last line is fine: detection copes with it)."""
    picked: list[bytes] = []
    size = 0
    for line in data.split(b"\n"):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            picked.append(line)
            size += len(line) + 1
            if size >= limit:
                break
    return b"\n".join(picked)[:limit]


def detect(sample: bytes) -> str | None:
    """The codec name for ``sample`` (non-UTF-8 bytes), or None when nothing fits."""
    if not sample:
        return None
    matches = list(from_bytes(sample))
    for match in matches:
        try:
            text = sample.decode(match.encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if _LOCALISED_LEVEL.search(text):
            return _usable(match.encoding)
    return _usable(matches[0].encoding) if matches else None


def _usable(name: str) -> str | None:
    """``name`` as a codec Python knows, None for UTF-8 or ASCII (nothing to fall back to)."""
    try:
        canonical = codecs.lookup(name).name.replace("-", "_")
    except LookupError:
        return None
    return None if canonical in _UTF8_NAMES else name
