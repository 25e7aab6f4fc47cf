"""Command line: ``serverops-agent``. Parses arguments at the edge and calls the stages.

Exit codes: 0 ok, 1 runtime failure (a file could not be read, entries dead-lettered by
``backfill``; ``status``: degraded), 2 usage or configuration error (a bad token, the
state dir locked by another process, unreadable state), 3 ``status``: not running,
130 ``backfill`` interrupted. The README's "Exit codes" table gives them per command.

Help is click's plain text, not typer's rich panels: rich reads square brackets in a help
text as markup (``[[servers]]`` became ``[]``), prints a ``<bool>`` type after every flag,
and its boxes are noise in a journal or a pipe. Help texts are therefore plain
sentences, no reST or markup; tests/test_cli_help.py renders every command's help.
"""

from __future__ import annotations

from typing import Annotated

import typer

from agent import __version__

app = typer.Typer(
    name="serverops-agent",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    # click wraps help at 80 columns by default and cuts the command summaries there.
    context_settings={"max_content_width": 120},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"serverops-agent {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Follow Minecraft server logs, parse them and ship them to ServerOps."""


def main() -> None:
    """Console-script entry point."""
    app()


def _register_commands() -> None:
    from agent.cli import backfill, deadletter, ops, parse

    ops.register(app)
    parse.register(app)
    backfill.register(app)
    deadletter.register(app)


_register_commands()
