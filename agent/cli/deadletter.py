"""``serverops-agent deadletter list|replay``: the entries the API refused for good.

``list`` reads the dead-letter file (``dead-letter.ndjson`` in the state dir) and prints
one line per entry (``--json``: a JSON array of the records). ``replay`` puts the chosen
entries back in the spool with their own ``event_id`` (the API deduplicates by it) and
removes them from the file; the daemon sends them when it next runs. Replay writes the
spool, so it takes the state dir's lock: stop the daemon first (exit 2 while it runs).

Exit codes: 0 done; 1 some chosen entries could not be replayed (kept in the file);
2 usage or config error, unreadable state, or the state dir is locked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
import typer

from agent.app.config import AgentConfig, load_config
from agent.app.wiring import ensure_state_dir, open_spool
from agent.cli.filters import parse_time
from agent.cli.ops import ConfigOption, state_hint
from agent.errors import AgentError, ConfigError, StateLockedError, UnreadableStateError
from agent.metrics import Metrics
from agent.state import lock as state_lock
from agent.state.deadletter import (
    DEAD_LETTER_FILE,
    Selector,
    error_code,
    read_dead_letters,
    replay,
)

app = typer.Typer(
    name="deadletter",
    help="List the entries the API refused for good, or send them again.",
    no_args_is_help=True,
)


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"serverops-agent deadletter: {message}", err=True)
    return typer.Exit(code)


def _config(path: Any) -> AgentConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        raise _fail(str(exc)) from None


@app.command("list")
def list_(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """Print the dead-lettered entries: time, event id, server, HTTP status, API error."""
    loaded = _config(config)
    try:
        records = read_dead_letters(loaded.state.dir / DEAD_LETTER_FILE)
    except UnreadableStateError as exc:
        raise _fail(f"{exc}\n{state_hint('deadletter list')}") from None
    if as_json:
        typer.echo(orjson.dumps(records, option=orjson.OPT_INDENT_2).decode())
        return
    for record in records:
        typer.echo(_summary(record))
    typer.echo(f"{len(records)} dead-lettered entr{'y' if len(records) == 1 else 'ies'}", err=True)


def _summary(record: dict[str, Any]) -> str:
    if "unreadable" in record:
        return f"(damaged line) {record['unreadable'][:80]}"
    code = error_code(record) or "-"
    return (
        f"{record.get('time', '?')}  {record.get('event_id', '?')}  "
        f"{record.get('server_id', '?')}  HTTP {record.get('status', '?')} {code}"
    )


@app.command("replay")
def replay_(
    config: ConfigOption = None,
    since: Annotated[
        str | None,
        typer.Option(
            metavar="T",
            help="Only entries dead-lettered at or after T ('YYYY-MM-DD HH:MM:SS' UTC, or "
            "ISO 8601 + zone).",
        ),
    ] = None,
    code: Annotated[
        str | None,
        typer.Option(
            metavar="CODE",
            help="Only entries refused with this HTTP status (413) or API error code "
            "(payload_too_large).",
        ),
    ] = None,
) -> None:
    """Put dead-lettered entries back in the spool (same event id) and remove them.

    The daemon sends them when it next runs. Stop it first: replay holds the state dir's
    lock, as the daemon does.
    """
    loaded = _config(config)
    try:
        chosen = _selector(since, code)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    state_dir = loaded.state.dir
    try:
        with state_lock.acquire(ensure_state_dir(loaded)):
            spool = open_spool(loaded, Metrics())
            try:
                result = replay(state_dir / DEAD_LETTER_FILE, spool, chosen)
            finally:
                spool.close()
    except StateLockedError as exc:
        raise _fail(f"{exc}; stop the daemon first (systemctl stop serverops-agent)") from None
    except UnreadableStateError as exc:
        raise _fail(f"{exc}\n{state_hint('deadletter replay')}") from None
    except AgentError as exc:
        raise _fail(str(exc), 1) from None
    typer.echo(
        f"replayed {len(result.replayed)} entr{'y' if len(result.replayed) == 1 else 'ies'} "
        f"into the spool; {result.kept} left in {DEAD_LETTER_FILE}"
    )
    if result.unreplayable:
        raise _fail(f"{result.unreplayable} chosen entries are not JSON bodies: kept", 1)


def _selector(since: str | None, code: str | None) -> Selector:
    """The records --since and --code choose (every record when neither is given)."""
    moment = None
    if since is not None:
        try:
            moment = parse_time(since)
        except ValueError as exc:
            raise ValueError(f"--since: {exc}") from None

    def chosen(record: dict[str, Any]) -> bool:
        if moment is not None:
            try:
                when = datetime.fromisoformat(str(record.get("time")))
            except ValueError:
                return False
            if when < moment:
                return False
        if code is not None:
            return code == str(record.get("status")) or code == error_code(record)
        return True

    return chosen


def register(root: typer.Typer) -> None:
    """Add ``deadletter list|replay`` to the main app."""
    root.add_typer(app, name="deadletter")
