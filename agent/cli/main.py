"""Command line: ``serverops-agent``. Parses arguments at the edge and calls the stages.

Exit codes: 0 ok, 1 runtime failure (a file could not be read, entries dead-lettered),
2 usage or configuration error.
"""

from __future__ import annotations

import typer

from agent import __version__

app = typer.Typer(
    name="serverops-agent",
    help="Follow Minecraft server logs, parse them and ship them to ServerOps.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"serverops-agent {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Follow Minecraft server logs, parse them and ship them to ServerOps."""


def main() -> None:
    """Console-script entry point."""
    app()


def _register_commands() -> None:
    from agent.cli import backfill, ops, parse

    ops.register(app)
    parse.register(app)
    backfill.register(app)


_register_commands()
