"""Wiring: the typed config sections become the stages, tail -> filter -> spool -> upload.

Nothing here parses or sends; it builds components and connects them. Both sinks
(agent/state/sinks.py) share one :class:`EntryEncoder` (filter, IP policy, API body), so
``run --dry-run`` prints exactly the bodies that ``run`` would spool and send.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from agent.app.apitoken import read_token
from agent.app.config import AgentConfig
from agent.app.servers_config import ServerConfig
from agent.encode.encoder import EntryEncoder
from agent.encode.filters import EntryFilter
from agent.encode.privacy import load_or_create_key
from agent.metrics import Metrics
from agent.parse.dates import load_timezone
from agent.parse.patterns import Patterns
from agent.parse.reader import ReaderOptions
from agent.sources import globs
from agent.sources.tail.source import ReadFrom, ServerSource
from agent.state import statedir
from agent.state.spool import SPOOL_FILE, Spool, SpoolOptions

if TYPE_CHECKING:  # the uploader pulls in aiohttp: imported only when a command ships
    from agent.ship.auth import TokenProvider
    from agent.ship.options import UploaderOptions
    from agent.ship.uploader import Uploader


def build_filter(config: AgentConfig) -> EntryFilter:
    """The ``[filters]`` section as an EntryFilter."""
    filters = config.filters
    return EntryFilter.create(
        include_tags=filters.include_tags,
        exclude_tags=filters.exclude_tags,
        min_level=filters.min_level,
        exclude_patterns=filters.exclude_patterns,
        performance_sample_rate=filters.performance_sample_rate,
    )


def build_encoder(config: AgentConfig, metrics: Metrics, *, dry_run: bool) -> EntryEncoder:
    """Filter + privacy + body settings. A dry run writes no state, so its IP key is
    ephemeral (hashes differ from the daemon's)."""
    ip_key = None
    if config.filters.ip == "hash":
        ip_key = b"dry-run" if dry_run else load_or_create_key(ensure_state_dir(config))
    return EntryEncoder(
        build_filter(config),
        metrics,
        raw_line=config.filters.send_raw_line,
        ip_mode=config.filters.ip,
        ip_key=ip_key,
    )


def build_sources(config: AgentConfig) -> list[ServerSource]:
    """One followed log per ``[[servers]]`` entry."""
    return [_source(server, config) for server in config.servers]


def found_sources(config: AgentConfig) -> list[ServerSource]:
    """The servers the config stands for now, each ``log`` glob expanded (for ``backfill``,
    which picks one server by id; the daemon's tailer expands the globs itself, again and
    again, as servers come and go)."""
    sources = build_sources(config)
    found = globs.expand([(source.server_id, source.path) for source in sources]).matches
    return [
        dataclasses.replace(sources[match.table], server_id=match.server_id, path=match.path)
        for match in found
    ]


def _source(server: ServerConfig, config: AgentConfig) -> ServerSource:
    reader = config.reader
    options = ReaderOptions(
        max_line_bytes=reader.max_line_bytes,
        fallback_encoding=None
        if server.encoding is None or server.encoding.lower() in ("utf-8", "utf8")
        else server.encoding,
        idle_flush_seconds=reader.multiline_idle_seconds,
        multiline_max_lines=reader.multiline_max_lines,
        multiline_max_bytes=reader.multiline_max_bytes,
        timezone=load_timezone(server.timezone),
        detect_encoding=server.encoding is None,  # not set: guessed per file
        patterns=server_patterns(server),
    )
    return ServerSource(server.id, server.log, ReadFrom(server.read_from), options)


def server_patterns(server: ServerConfig) -> Patterns | None:
    """A server's ``[[servers.patterns]]`` compiled (None: none, the reader adds nothing)."""
    return Patterns.compile((pattern.regex, pattern.tags) for pattern in server.patterns)


def ensure_state_dir(config: AgentConfig) -> Path:
    """``[state] dir``, created 0700 if missing (by :mod:`agent.state.statedir`)."""
    return statedir.ensure_state_dir(config.state.dir)


def spool_options(config: AgentConfig) -> SpoolOptions:
    """``[state] dir`` and ``[spool]`` as SpoolOptions: the one place they meet."""
    return SpoolOptions(config.state.dir / SPOOL_FILE, max_bytes=config.spool.max_bytes)


def open_spool(config: AgentConfig, metrics: Metrics) -> Spool:
    """The spool database in the state directory."""
    return Spool(spool_options(config), metrics)


# [api] keys that are not uploader options: the TokenProvider reads the token.
_TOKEN_KEYS = frozenset({"token", "token_file"})


def uploader_options(config: AgentConfig) -> UploaderOptions:
    """``[api]`` as UploaderOptions: the one place that maps it (daemon, backfill, check).

    Every ``[api]`` key but the token's is the UploaderOptions field of the same name, so
    a key added to the config without an option fails here, loudly, rather than being
    ignored; the options' internal tuning fields keep their defaults (agent/ship/options.py
    says which and why). tests/test_uploader.py checks that the shared defaults agree.
    """
    from agent.ship.options import UploaderOptions

    api = config.api
    keys = [name for name in type(api).model_fields if name not in _TOKEN_KEYS]
    return UploaderOptions(**{name: getattr(api, name) for name in keys})


def token_provider(config: AgentConfig) -> TokenProvider:
    """The API token, read now (a bad one raises ConfigError) and again after auth errors
    or SIGHUP. Commands that ship read it before opening the spool, so a bad token leaves
    no state behind."""
    from agent.ship.auth import TokenProvider

    return TokenProvider(lambda: read_token(config.api))


def build_uploader(
    config: AgentConfig, spool: Spool, metrics: Metrics, token: TokenProvider
) -> Uploader:
    """The uploader for ``[api]``, sending with ``token`` (:func:`token_provider`)."""
    from agent.ship.uploader import Uploader
    from agent.state.deadletter import DEAD_LETTER_FILE, DeadLetterFile

    options = uploader_options(config)
    dead_letters = DeadLetterFile(ensure_state_dir(config) / DEAD_LETTER_FILE)
    return Uploader(spool, options, token, dead_letters=dead_letters, metrics=metrics)
