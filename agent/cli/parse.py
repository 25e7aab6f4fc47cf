"""``serverops-agent parse``: log files in, one API body per entry out (JSON lines).

Prints exactly the bodies that would be POSTed. Files are streamed in chunks (plain or
gzip, recognised by their magic bytes), so memory does not grow with a file's size. A
file that cannot be read is reported on stderr in one line; the entries read before the
error are still printed, the other files are still parsed, and the exit code is 1.
Usage errors (server id, timezone, date, encoding) exit 2 before anything is read.

``--config`` reads the ``[[servers]]`` entry of ``--server-id`` (default: the only one)
and parses as the daemon reads that server: its ``[[servers.patterns]]``, timezone,
encoding and ``[reader]`` limits (``--timezone`` and ``--encoding`` win). ``[filters]``
is not applied: parse prints every entry (its own FILTERS select). A config error exits 2.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Callable
from datetime import date, tzinfo
from pathlib import Path
from typing import Annotated

import typer

from agent.app.config import load_config
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
from agent.encode.body import encode_lines
from agent.errors import ConfigError
from agent.model import Entry
from agent.parse.dates import load_timezone
from agent.parse.lines import check_encoding
from agent.parse.reader import EntryReader, ReaderOptions, ServerContext
from agent.sources.files import (
    EntryFeed,
    LogStream,
    ReadError,
    date_from_mtime,
    describe,
    open_log,
)
from agent.sources.logfiles import date_of


def parse_stream(
    stream: LogStream,
    *,
    make_reader: Callable[[str], EntryReader],
    emit: Callable[[list[Entry]], None],
) -> None:
    """Read ``stream`` to its end, emitting entries as they complete.

    Raises ReadError when the stream fails mid-way, after emitting what was read.
    """
    reader = make_reader(stream.fingerprint)
    EntryFeed(stream, reader, lambda entries, _checkpoint: emit(entries)).run()


def _usage_error(message: str) -> typer.Exit:
    typer.echo(f"serverops-agent parse: {message}", err=True)
    return typer.Exit(2)


def _validated(
    server_id: str, timezone: str | None, on_date: str | None, encoding: str | None
) -> tuple[tzinfo, date | None, str | None]:
    try:
        check_server_id(server_id)
    except ValueError as exc:
        raise _usage_error(str(exc)) from None
    try:
        zone = load_timezone(timezone)
    except ValueError as exc:
        raise _usage_error(f"--timezone: {exc}") from None
    day = None
    if on_date is not None:
        try:
            day = date.fromisoformat(on_date)
        except ValueError:
            raise _usage_error(f"--date: {on_date!r} is not a date (YYYY-MM-DD)") from None
    if encoding is not None:
        try:
            check_encoding(encoding)
        except LookupError:
            raise _usage_error(f"--encoding: unknown encoding {encoding!r}") from None
    return zone, day, encoding


def _configured(path: Path | None, server_id: str | None) -> tuple[str, ReaderOptions | None]:
    """The server id, and with ``--config`` that server's reader options (its patterns)."""
    if path is None:
        return server_id or DEFAULT_SERVER_ID, None
    from agent.app.wiring import found_sources  # the daemon's wiring: only with --config

    try:
        chosen = choose_server(found_sources(load_config(path)), server_id)
    except (ConfigError, ValueError) as exc:
        raise _usage_error(str(exc)) from None
    return chosen.server_id, chosen.options


def parse(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="PATH",
            help="Log files (plain or .gz); '-' or none: stdin.",
            show_default=False,
        ),
    ] = None,
    server_id: Annotated[
        str | None,
        typer.Option(
            metavar="ID",
            help="Sent as meta.server_id (default: 'default'; with --config, the only server).",
            show_default=False,
        ),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(metavar="TZ", help="The server's timezone (IANA name); default: the host's."),
    ] = None,
    on_date: Annotated[
        str | None,
        typer.Option(
            "--date",
            metavar="YYYY-MM-DD",
            help="Date of the first line; default: from a rotated file's name "
            "(YYYY-MM-DD-N.log.gz), else counted back from the file's mtime (the time its "
            "last line was written); stdin: today by the clock.",
        ),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="Fallback encoding for lines that are not UTF-8 (cp1252, gbk, ...); "
            "default: guessed once per file from its non-UTF-8 lines.",
        ),
    ] = None,
    raw_line: Annotated[
        bool,
        typer.Option(
            "--raw-line/--no-raw-line", help="Include meta.line, the raw text.", show_default=False
        ),
    ] = False,
    tags: TagOption = None,
    query: QueryOption = None,
    since: SinceOption = None,
    before: BeforeOption = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            metavar="PATH",
            help="Parse as the daemon reads the [[servers]] entry of --server-id: its "
            "patterns, timezone and encoding.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Parse log files and print the JSON body of each entry.

    Prints exactly the bodies that would be POSTed, one per line. The filters are those of
    backfill and of the mc-coal log-line API.
    """
    server_id, configured = _configured(config, server_id)
    zone, day, encoding = _validated(server_id, timezone, on_date, encoding)
    filters = QueryFilters(tuple(tags or ()), query, since, before)
    try:
        entry_filter = build_filter(filters) if filters != QueryFilters() else None
    except ValueError as exc:
        raise _usage_error(str(exc)) from None
    options = ReaderOptions(
        fallback_encoding=encoding, timezone=zone, detect_encoding=encoding is None
    )
    if configured is not None:  # the server's options; what the command line gave wins
        options = dataclasses.replace(
            configured,
            fallback_encoding=configured.fallback_encoding if encoding is None else encoding,
            detect_encoding=configured.detect_encoding if encoding is None else False,
            timezone=configured.timezone if timezone is None else zone,
        )
    context = ServerContext()  # one server: UUIDs seen in one file enrich the next
    out = typer.get_binary_stream("stdout")

    def emit(entries: list[Entry]) -> None:
        if entry_filter is not None:
            entries = [e for e in entries if entry_filter.reason_to_skip(e) is None]
        if entries:
            out.write(encode_lines(entries, raw_line=raw_line))

    failed = False
    restore_gc = tune_collector()
    try:
        for path in paths or ["-"]:
            hint = day or (None if path == "-" else date_of(path))
            if hint is None and path != "-":  # read after the fact: dated from its mtime
                hint = date_from_mtime(path, 0, zone)

            def make_reader(print_: str, hint: date | None = hint) -> EntryReader:
                return EntryReader(
                    server_id=server_id,
                    fingerprint=print_,
                    options=options,
                    date_hint=hint,
                    clock=time.time,
                    context=context,
                )

            problem = _parse_path(path, make_reader, emit)
            if problem is not None:
                error, is_failure = problem
                failed = failed or is_failure
                out.flush()  # the entries read before the error come first
                typer.echo(f"serverops-agent parse: {path}: {error}", err=True)
        out.flush()
    except BrokenPipeError:
        # Whoever read stdout went away (`| head`): stop quietly, as cat does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    finally:
        restore_gc()
    if failed:
        raise typer.Exit(1)


def _parse_path(
    path: str, make_reader: Callable[[str], EntryReader], emit: Callable[[list[Entry]], None]
) -> tuple[str, bool] | None:
    """Parse one path ('-': stdin); None, or what to say and whether it is a failure (a
    ``.gz`` cut short is a warning: what it holds was printed)."""
    try:
        if path == "-":  # stdin stays open: '-' may be named twice
            parse_stream(
                LogStream(typer.get_binary_stream("stdin")), make_reader=make_reader, emit=emit
            )
        else:
            with open_log(path) as stream:
                parse_stream(stream, make_reader=make_reader, emit=emit)
    except ReadError as exc:
        if exc.cut_short:
            return (
                f"warning: cut short: the gzip stream ends mid-way; its first {exc.offset:,} "
                "bytes were read, what followed them is not in the file",
                False,
            )
        return describe(exc.cause), True
    except BrokenPipeError:
        raise  # writing failed, not reading: the caller stops
    except OSError as exc:  # open() failed: missing, a directory, no permission
        return describe(exc), True
    return None


def register(app: typer.Typer) -> None:
    """Add ``parse`` to the main app."""
    app.command("parse")(parse)
