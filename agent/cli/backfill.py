"""``serverops-agent backfill``: import a server's old logs once, in order, resumably.

    serverops-agent backfill PATH... [--config PATH] [--server-id ID] [--since T]
        [--before T] [--tag TAG]... [-q TEXT] [--dry-run] [--timezone TZ] [--jobs N]

PATHs are files, directories (a server's ``logs/``) and globs, read oldest first
(agent/backfill/files.py). Without ``--dry-run`` the config is needed (token, state dir,
``[filters]``, and the ``[[servers]]`` entry of ``--server-id`` for its timezone and
encoding); entries go through the daemon's spool with checkpoints and are sent before
the summary is printed. ``--dry-run`` prints the exact API bodies as JSON lines on
stdout and writes nothing; it needs no token and no config.

Shipping takes the state dir's lock (agent/state/lock.py) and refuses to start while the
daemon holds it (its uploader and this one would both send the spooled entries): stop
it, backfill, start it.

Exit codes: 0 all shipped (a .gz cut short counts: its readable part was shipped, and
the summary names it); 1 a file failed (e.g. a corrupt .gz: the others are still done)
or entries were dead-lettered; 2 usage or config error, or the daemon (or another
backfill) holds the state dir's lock;
130 interrupted (Ctrl-C: what was read is in the spool, sent by the next run or the
daemon).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from agent.app.config import AgentConfig, load_config
from agent.app.logsetup import LogFormat, configure_logging
from agent.app.wiring import (
    build_encoder,
    build_uploader,
    ensure_state_dir,
    found_sources,
    open_spool,
    token_provider,
)
from agent.backfill.dryrun import run_dry
from agent.backfill.encode import EncodeSettings
from agent.backfill.files import expand
from agent.backfill.progress import Reporter
from agent.backfill.reading import ReadSettings
from agent.backfill.ship import ShipContext, ship_all
from agent.backfill.summary import EXIT_USAGE, Totals, format_summary
from agent.cli.collector import tune_collector
from agent.cli.filters import (
    BeforeOption,
    QueryFilters,
    QueryOption,
    SinceOption,
    TagOption,
    build_filter,
)
from agent.cli.servers import DEFAULT_SERVER_ID, check_server_id, choose_server
from agent.encode.filters import EntryFilter
from agent.errors import AgentError, ConfigError, PathError, StateLockedError, UnreadableStateError
from agent.metrics import Metrics
from agent.parse.dates import load_timezone
from agent.parse.reader import ReaderOptions
from agent.state import lock as state_lock


def _usage_error(message: str) -> typer.Exit:
    typer.echo(f"serverops-agent backfill: {message}", err=True)
    return typer.Exit(EXIT_USAGE)


def backfill(
    paths: Annotated[
        list[str],
        typer.Argument(metavar="PATH", help="Log files, directories (logs/) and globs."),
    ],
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            metavar="PATH",
            help="Config file (default: $SERVEROPS_AGENT_CONFIG or "
            "/etc/serverops-agent/config.toml); not needed with --dry-run.",
            show_default=False,
        ),
    ] = None,
    server_id: Annotated[
        str | None,
        typer.Option(
            metavar="ID",
            help="The [[servers]] id (sent as meta.server_id); default: the only one.",
        ),
    ] = None,
    tag: TagOption = None,
    query: QueryOption = None,
    since: SinceOption = None,
    before: BeforeOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the JSON bodies; send and write nothing.")
    ] = False,
    timezone: Annotated[
        str | None,
        typer.Option(
            metavar="TZ",
            help="The server's timezone (IANA name); default: the config's, else the host's.",
        ),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            metavar="N", min=1, help="Processes parsing files at once (dry run); default: CPUs."
        ),
    ] = None,
) -> None:
    """Import old log files once, oldest first, resumably.

    Shows a progress bar and prints a summary. Stop the daemon first: both would send
    from the same spool. With --dry-run, prints the JSON bodies and needs no config.
    """
    loaded = _config(config, dry_run=dry_run)
    read = _read_settings(server_id, timezone, loaded)
    filters = QueryFilters(tuple(tag or ()), query, since, before)
    try:
        entry_filter = build_filter(filters, loaded.filters if loaded else None)
        files = expand(paths)
    except (ValueError, PathError) as exc:
        raise _usage_error(str(exc)) from None
    if not logging.getLogger().handlers:  # an embedding program (or pytest) keeps its own
        configure_logging(loaded.logging.level if loaded else "info", LogFormat.TEXT)
    totals = Totals(files=len(files), bytes_total=sum(_size(path) for path in files))
    try:
        if dry_run:
            encode = _encode_settings(entry_filter, loaded, dry_run=True)
            _dry_run(files, read, encode, totals, jobs or os.cpu_count() or 1)
        else:
            assert loaded is not None
            _ship(files, read, entry_filter, loaded, totals)
    except (ConfigError, UnreadableStateError) as exc:
        raise _usage_error(str(exc)) from None
    except AgentError as exc:
        typer.echo(f"serverops-agent backfill: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(format_summary(totals, dry_run=dry_run), err=dry_run)
    raise typer.Exit(totals.exit_code())


def _config(path: Path | None, *, dry_run: bool) -> AgentConfig | None:
    """The config (None for a dry run without --config); ConfigError is a usage error."""
    if dry_run and path is None:
        return None
    try:
        return load_config(path)
    except ConfigError as exc:
        raise _usage_error(str(exc)) from None


def _read_settings(
    given: str | None, timezone: str | None, config: AgentConfig | None
) -> ReadSettings:
    """The server read as and its reader options (encoding, zone, limits): the configured
    server's (agent/cli/servers.py), or with no config or no [[servers]] the id given;
    --timezone wins."""
    sources = found_sources(config) if config else []
    try:
        if given is not None:
            check_server_id(given)
        chosen = choose_server(sources, given) if sources else None
    except ValueError as exc:
        raise _usage_error(str(exc)) from None
    if chosen is None:  # no config: no encoding set, guessed per file
        server, options = given or DEFAULT_SERVER_ID, ReaderOptions(detect_encoding=True)
    else:
        server, options = chosen.server_id, chosen.options
    if timezone is None and options.timezone is not None:
        return ReadSettings(server, options)
    try:
        zone = load_timezone(timezone)
    except ValueError as exc:
        raise _usage_error(f"--timezone: {exc}") from None
    return ReadSettings(server, dataclasses.replace(options, timezone=zone))


def _encode_settings(
    entry_filter: EntryFilter, config: AgentConfig | None, *, dry_run: bool
) -> EncodeSettings:
    """The config's body and IP settings (as the daemon's) with the merged filter."""
    if config is None:
        return EncodeSettings(entry_filter)
    encoder = build_encoder(config, Metrics(), dry_run=dry_run)
    return EncodeSettings(entry_filter, encoder.raw_line, encoder.ip_mode, encoder.ip_key)


def _dry_run(
    files: list[Path], read: ReadSettings, encode: EncodeSettings, totals: Totals, jobs: int
) -> None:
    out = typer.get_binary_stream("stdout")
    restore_collector = tune_collector()  # before the pool forks: workers inherit it
    with Reporter(totals, lambda: 0, tty=sys.stderr.isatty()) as reporter:
        try:
            run_dry(files, read, encode, out, totals, jobs=jobs, on_file=reporter.file_done)
        except KeyboardInterrupt:
            totals.interrupted = True
            out.flush()
        except BrokenPipeError:
            # Whoever read stdout went away (`| head`): stop quietly, as cat does.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(0) from None
        finally:
            restore_collector()


def _ship(
    files: list[Path],
    read: ReadSettings,
    entry_filter: EntryFilter,
    config: AgentConfig,
    totals: Totals,
) -> None:
    try:
        lock = state_lock.acquire(ensure_state_dir(config), wait_seconds=state_lock.WAIT_SECONDS)
    except StateLockedError as exc:
        raise _usage_error(
            f"{exc}: the daemon (or another backfill) sends from the same spool, and two "
            "senders would send entries twice. Stop it first (systemctl stop "
            "serverops-agent), run backfill, then start it again; or use --dry-run"
        ) from None
    with lock:
        _ship_locked(files, read, entry_filter, config, totals)


def _ship_locked(
    files: list[Path],
    read: ReadSettings,
    entry_filter: EntryFilter,
    config: AgentConfig,
    totals: Totals,
) -> None:
    metrics = Metrics()
    token = token_provider(config)  # a bad token: exit 2 before the spool is made
    spool = open_spool(config, metrics)
    try:
        ship = ShipContext(
            spool,
            build_uploader(config, spool, metrics, token),
            metrics,
            read,
            _encode_settings(entry_filter, config, dry_run=False),
        )
        sent = lambda: int(metrics.total(metrics.entries_sent))  # noqa: E731
        paused = lambda: ship.uploader.status().paused  # noqa: E731
        with Reporter(totals, sent, tty=sys.stderr.isatty(), paused=paused) as reporter:
            ship_all(
                files, ship, totals, on_file=reporter.file_done, on_progress=reporter.bytes_read
            )
    finally:
        spool.close()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def register(app: typer.Typer) -> None:
    """Add ``backfill`` to the main app."""
    app.command("backfill")(backfill)
