"""The ``[[servers]]`` tables: one Minecraft server each, or with a glob ``log`` and an
``id`` template every server a hosting panel lays out (rules in agent/sources/globs.py),
with the operator's own ``[[servers.patterns]]``.

Checked at load, like the rest of the config (agent/app/config.py builds on these): a bad
timezone, encoding, glob, id template, regex or tag, a repeated id, or ids filled from
globs that clash become a :class:`agent.errors.ConfigError` naming the key (exit 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agent.errors import ConfigError
from agent.parse.lines import check_encoding
from agent.parse.patterns import check_regex, check_tags
from agent.sources import globs


class Section(BaseModel):
    """A config table: unknown keys are errors (a typo must not be silently ignored).
    Every table of the config derives from it (agent/app/config.py too)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PatternConfig(Section):
    """One ``[[servers.patterns]]`` entry: the operator's own line pattern, tried before the
    built-ins. Named groups fill fields (agent/parse/patterns.py lists them); checked here so
    a bad regex, an unknown group or an unknown tag names its key at load (exit 2)."""

    regex: str
    tags: list[str]

    @field_validator("regex")
    @classmethod
    def _valid_regex(cls, regex: str) -> str:
        check_regex(regex)
        return regex

    @field_validator("tags")
    @classmethod
    def _valid_tags(cls, tags: list[str]) -> list[str]:
        check_tags(tags)
        return tags


class ServerConfig(Section):
    """One ``[[servers]]`` entry: a Minecraft server whose log is followed."""

    id: str  # a server id, or with a glob log a template: "{1}" is what the first * matched
    log: Path
    timezone: str | None = None  # None: the host's timezone
    encoding: str | None = None  # fallback for lines that are not UTF-8; None: detect per file
    read_from: Literal["beginning", "end"] = "end"
    patterns: list[PatternConfig] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, name: str | None) -> str | None:
        if name is not None:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown timezone {name!r}") from exc
        return name

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, name: str | None) -> str | None:
        if name is None:
            return None
        try:
            check_encoding(name)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {name!r}") from exc
        return name

    @model_validator(mode="after")
    def _id_fits_log(self) -> ServerConfig:
        globs.check_pattern(self.id, self.log)  # ValueError names the key (id or log)
        return self


def check_unique_ids(servers: list[ServerConfig]) -> list[ServerConfig]:
    """``servers`` if no literal id is repeated (templates are checked once filled, by
    :func:`check_found_ids`), else ValueError naming the ids."""
    ids = [server.id for server in servers if not globs.is_template(server.id)]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate server id(s) {', '.join(duplicates)}")
    return servers


def check_found_ids(servers: list[ServerConfig], path: Path) -> None:
    """Ids filled from globs must not clash with each other or with a literal id (the
    servers found now; a clash appearing later is the daemon's to log)."""
    tables = [(server.id, server.log) for server in servers]
    clashes = globs.expand(tables).clashes
    if clashes:
        raise ConfigError(
            "\n".join(
                f"{path}: servers.{c.dropped.table}.id: {c.dropped.server_id!r} for "
                f"{c.dropped.path} is also the id of {c.kept.path} (servers.{c.kept.table})"
                for c in clashes
            )
        )
