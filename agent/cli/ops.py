"""The operator's commands: ``run`` (the daemon), ``check`` and ``status``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent.app.config import load_config
from agent.app.logsetup import LogFormat, configure_logging
from agent.app.status import format_report, read_status, report_json
from agent.errors import AgentError, ConfigError, StateLockedError, UnreadableStateError

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        metavar="PATH",
        help="Config file (default: $SERVEROPS_AGENT_CONFIG or /etc/serverops-agent/config.toml).",
        show_default=False,
    ),
]


def check(
    config: ConfigOption = None,
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file",
            metavar="PATH",
            help="Read the token from this file (- for standard input) instead of the "
            "config's source; under systemd the credential in $CREDENTIALS_DIRECTORY is used.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Check the config, log paths, state dir, token and API.

    Prints one PASS or FAIL line per check, the token's line naming where it was read;
    exits 0 if all pass, 1 if one fails, 2 if the config cannot be loaded. The API probe
    stores nothing.
    """
    from agent.app.check import format_results, run_checks  # the HTTP client: only when checking

    try:
        loaded = load_config(config)
    except ConfigError as exc:
        typer.echo(f"FAIL  config: {exc}", err=True)
        raise typer.Exit(2) from None
    results = run_checks(loaded, token_file=token_file)
    typer.echo(format_results(results))
    raise typer.Exit(0 if all(result.ok for result in results) else 1)


def state_hint(command: str) -> str:
    """What to do when the state dir cannot be read: it is the agent user's (0700)."""
    return (
        "hint: the state dir belongs to the agent's user; run it as that user: "
        f"sudo -u serverops-agent serverops-agent {command} --config PATH"
    )


def status(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Show whether the daemon runs and is healthy, and its backlog.

    Shows the spool, the lag per server, last success and last error. Liveness is the
    state dir's lock, not a heartbeat. Exit codes: 0 healthy, 1 degraded (sending paused,
    stalled, dead letters waiting), 3 not running, 2 usage error or unreadable state.
    Reads only, so it works while the daemon runs.
    """
    try:
        loaded = load_config(config)
    except ConfigError as exc:
        typer.echo(f"serverops-agent: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        report = read_status(loaded)
    except AgentError as exc:
        typer.echo(f"serverops-agent status: {exc}\n{state_hint('status')}", err=True)
        raise typer.Exit(2) from None
    typer.echo(report_json(report) if as_json else format_report(report))
    raise typer.Exit(int(report.health))


def run(
    config: ConfigOption = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the entries as JSON lines instead of sending them."),
    ] = False,
    log_format: Annotated[
        LogFormat | None,
        typer.Option(
            help="The agent's own log on stderr: text (journald-friendly) or json; "
            "default: the config's [logging] format.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Follow every configured server and ship its log entries.

    The daemon: reads each [[servers]] log through rotation, truncation and restarts, spools the
    entries on disk and uploads them with retries. SIGHUP re-reads the config.
    """
    from agent.app import daemon

    try:
        loaded = load_config(config)
    except ConfigError as exc:
        typer.echo(f"serverops-agent: {exc}", err=True)
        raise typer.Exit(2) from None
    chosen = log_format or LogFormat(loaded.logging.format)
    configure_logging(loaded.logging.level, chosen)
    try:
        code = daemon.run(config, loaded, dry_run=dry_run)
    except (ConfigError, StateLockedError, UnreadableStateError) as exc:
        typer.echo(f"serverops-agent: {exc}", err=True)
        raise typer.Exit(2) from None
    except AgentError as exc:
        typer.echo(f"serverops-agent: {exc}", err=True)
        raise typer.Exit(1) from None
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add the commands to the main app."""
    app.command("run")(run)
    app.command("check")(check)
    app.command("status")(status)
