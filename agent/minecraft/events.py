"""What a message says: tags and fields.

INTERFACE STUB: the full implementation is being written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agent.model import Tag


@dataclass(slots=True)
class Event:
    """The tags and fields of one message (``timestamp`` is added by the assembler)."""

    tags: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)


def classify(message: str, level: str | None = None) -> Event:
    """Tag a message and extract its fields."""
    return Event([Tag.UNKNOWN.value], {})
