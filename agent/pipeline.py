"""Wiring: the typed config sections become the stages, tail -> filter -> spool -> upload.

Nothing here parses or sends; it builds components and connects them. Both sinks share
:class:`EntryEncoder` (filter, IP policy, API body), so ``run --dry-run`` prints exactly
the bodies that ``run`` would spool and send.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from prometheus_client import Counter

from agent.body import encode_with_id
from agent.config import AgentConfig, ServerConfig, read_token
from agent.dates import load_timezone
from agent.errors import AgentError
from agent.filters import EntryFilter
from agent.metrics import Metrics
from agent.model import Checkpoint, Decoding, Entry
from agent.privacy import IpMode, apply_ip_policy, load_or_create_key
from agent.reader import ReaderOptions
from agent.spool import SPOOL_FILE, Record, Spool, SpoolOptions
from agent.tail.source import ReadFrom, ServerSource

if TYPE_CHECKING:  # the uploader pulls in aiohttp: imported only when a command ships
    from agent.uploader import Uploader


class EntryEncoder:
    """Entry -> (event_id, body bytes), or None when the filter says not to send it."""

    def __init__(
        self,
        entry_filter: EntryFilter,
        metrics: Metrics,
        *,
        raw_line: bool = False,
        ip_mode: IpMode = "keep",
        ip_key: bytes | None = None,
    ) -> None:
        self.entry_filter = entry_filter
        self.metrics = metrics
        self.raw_line = raw_line
        self.ip_mode = ip_mode
        self.ip_key = ip_key
        # Labelled counters looked up once: labels() costs microseconds per call, and
        # every entry increments several of them (a backfill passes millions of entries).
        self._counters: dict[tuple[str, ...], Counter] = {}

    def encode(self, entry: Entry) -> tuple[str, bytes] | None:
        """Count the entry, apply the filter and the IP policy, build the API body."""
        self._count(entry)
        reason = self.entry_filter.reason_to_skip(entry)
        if reason is not None:
            self._counter(self.metrics.entries_filtered, reason.value).inc()
            return None
        if self.ip_mode != "keep":
            entry.fields = apply_ip_policy(entry.fields, self.ip_mode, self.ip_key)
        return encode_with_id(entry, raw_line=self.raw_line)

    def _count(self, entry: Entry) -> None:
        metrics, server = self.metrics, entry.server_id
        self._counter(metrics.lines_read, server).inc(entry.line.count("\n") + 1)
        for tag in entry.tags:
            self._counter(metrics.entries, server, tag).inc()
        if entry.truncated:
            self._counter(metrics.lines_truncated, server).inc()
        if entry.decoding is not Decoding.UTF8:
            self._counter(metrics.lines_not_utf8, server, entry.decoding.value).inc()

    def _counter(self, family: Counter, *labels: str) -> Counter:
        key = (str(id(family)), *labels)
        child = self._counters.get(key)
        if child is None:
            child = self._counters[key] = family.labels(*labels)
        return child


class SpoolSink:
    """The tailer's sink in normal operation: entries and checkpoint in one transaction."""

    def __init__(self, spool: Spool, encoder: EntryEncoder) -> None:
        self._spool = spool
        self.encoder = encoder

    def deliver(self, entries: Sequence[Entry], checkpoint: Checkpoint) -> None:
        """Spool what passes the filter; the checkpoint moves even if nothing passed."""
        records = []
        for entry in entries:
            encoded = self.encoder.encode(entry)
            if encoded is not None:
                records.append(Record(encoded[0], entry.server_id, encoded[1]))
        self._spool.append(records, checkpoint)

    def has_room(self) -> bool:
        """False while the spool is at its cap: the tailer pauses (backpressure)."""
        return self._spool.has_room()

    def wait_for_room(self, timeout: float | None = None) -> bool:
        """Block until the uploader drained the spool below its cap, or timeout."""
        return self._spool.wait_for_room(timeout)


class PrintSink:
    """``run --dry-run``: print the bodies that would be sent; commit nothing."""

    def __init__(self, encoder: EntryEncoder, out: IO[bytes] | None = None) -> None:
        self.encoder = encoder
        self._out = out if out is not None else sys.stdout.buffer

    def deliver(self, entries: Sequence[Entry], checkpoint: Checkpoint) -> None:
        """Write one JSON line per entry that passes the filter."""
        lines = [encoded[1] for e in entries if (encoded := self.encoder.encode(e)) is not None]
        if lines:
            self._out.write(b"\n".join(lines) + b"\n")
            self._out.flush()

    def has_room(self) -> bool:
        """Always: nothing is stored."""
        return True

    def wait_for_room(self, timeout: float | None = None) -> bool:
        """Never waits."""
        return True


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


def _source(server: ServerConfig, config: AgentConfig) -> ServerSource:
    reader = config.reader
    options = ReaderOptions(
        max_line_bytes=reader.max_line_bytes,
        fallback_encoding=None if server.encoding.lower() in ("utf-8", "utf8") else server.encoding,
        idle_flush_seconds=reader.multiline_idle_seconds,
        multiline_max_lines=reader.multiline_max_lines,
        multiline_max_bytes=reader.multiline_max_bytes,
        timezone=load_timezone(server.timezone),
    )
    return ServerSource(server.id, server.log, ReadFrom(server.read_from), options)


def ensure_state_dir(config: AgentConfig) -> Path:
    """The state directory, created 0700 if missing."""
    state = config.state.dir
    try:
        state.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise AgentError(f"state.dir: cannot create {state}: {exc.strerror}") from exc
    return state


def open_spool(config: AgentConfig, metrics: Metrics) -> Spool:
    """The spool database in the state directory."""
    path = ensure_state_dir(config) / SPOOL_FILE
    return Spool(SpoolOptions(path, max_bytes=config.spool.max_bytes), metrics)


def build_uploader(
    config: AgentConfig,
    spool: Spool,
    metrics: Metrics,
    token_loader: Callable[[], object] | None = None,
) -> Uploader:
    """The uploader for ``[api]``, reading the token now and again after auth errors."""
    from agent.auth import TokenProvider
    from agent.deadletter import DEAD_LETTER_FILE, DeadLetterFile
    from agent.uploader import Uploader, UploaderOptions

    api = config.api
    options = UploaderOptions(
        url=api.url,
        http2=api.http2,
        allow_insecure_http=api.allow_insecure_http,
        concurrency=api.concurrency,
        batch_size=api.batch_size,
        linger_seconds=api.batch_linger_seconds,
        timeout_seconds=api.timeout_seconds,
        shutdown_deadline_seconds=api.shutdown_deadline_seconds,
    )
    provider = TokenProvider(token_loader or (lambda: read_token(api)))  # type: ignore[arg-type]
    dead_letters = DeadLetterFile(ensure_state_dir(config) / DEAD_LETTER_FILE)
    return Uploader(spool, options, provider, dead_letters=dead_letters, metrics=metrics)
