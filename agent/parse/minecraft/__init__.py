"""The Minecraft line parser: pure functions of text, no I/O.

Two steps, so the multi-line assembler can use the first alone:

* :func:`parse_header` recognises a line's prefix (format groups A-I of
  shared/PARSING.md) and splits it into time, level, thread, logger and message;
  ``None`` means the line has no recognised prefix: a continuation line.
* :func:`classify` reads a message and returns its tags and fields.
"""

from agent.parse.minecraft.events import Event, classify
from agent.parse.minecraft.header import Header, LineFormat, parse_header

__all__ = ["Event", "Header", "LineFormat", "classify", "parse_header"]
