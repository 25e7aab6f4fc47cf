"""The operator's commands: ``check`` and ``status`` (registered on the main app)."""

from __future__ import annotations

from pathlib import Path

import typer

from agent.app.config import load_config
from agent.app.logsetup import configure_logging
from agent.app.status import format_report, read_status
from agent.errors import AgentError, ConfigError

CONFIG_OPTION = typer.Option(
    None,
    "--config",
    "-c",
    help="Config file (default: $SERVEROPS_AGENT_CONFIG or /etc/serverops-agent/config.toml).",
    show_default=False,
)


def check(config: Path | None = CONFIG_OPTION) -> None:
    """Check the config, log paths, state dir, token and API; exit 0 if all pass."""
    from agent.app.check import format_results, run_checks  # httpx: only when checking

    try:
        loaded = load_config(config)
    except ConfigError as exc:
        typer.echo(f"FAIL  config: {exc}", err=True)
        raise typer.Exit(2) from None
    results = run_checks(loaded)
    typer.echo(format_results(results))
    raise typer.Exit(0 if all(result.ok for result in results) else 1)


def status(config: Path | None = CONFIG_OPTION) -> None:
    """Show the spool, lag, last success and errors (also while the daemon runs)."""
    try:
        loaded = load_config(config)
    except ConfigError as exc:
        typer.echo(f"serverops-agent: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        report = read_status(loaded)
    except AgentError as exc:
        typer.echo(f"serverops-agent: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(format_report(report))


def run(
    config: Path | None = CONFIG_OPTION,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the entries as JSON lines instead of sending them."
    ),
    log_format: str = typer.Option(
        None, "--log-format", help="text (journald-friendly) or json; default: [logging] format."
    ),
) -> None:
    """Follow every configured server and ship its log entries (the daemon)."""
    from agent.app import daemon

    try:
        loaded = load_config(config)
    except ConfigError as exc:
        typer.echo(f"serverops-agent: {exc}", err=True)
        raise typer.Exit(2) from None
    chosen = log_format or loaded.logging.format
    if chosen not in ("text", "json"):
        typer.echo("serverops-agent: --log-format must be text or json", err=True)
        raise typer.Exit(2)
    configure_logging(loaded.logging.level, chosen)  # type: ignore[arg-type]
    try:
        code = daemon.run(config, loaded, dry_run=dry_run)
    except ConfigError as exc:
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
