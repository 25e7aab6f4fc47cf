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

import importlib
import sys
from typing import Annotated

import typer

from agent import __version__

_app = typer.Typer(
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


@_app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Follow Minecraft server logs, parse them and ship them to ServerOps."""


# Which module registers each command. The console script imports only the module of the
# command it runs: importing them all (aiohttp, the uploader, the daemon's wiring) costs
# ~0.6 s of CPU on the development VM, more than parsing a small file.
_MODULE_OF_COMMAND = {
    "run": "ops",
    "check": "ops",
    "status": "ops",
    "parse": "parse",
    "backfill": "backfill",
    "deadletter": "deadletter",
}
_ALL_MODULES = ("ops", "parse", "backfill", "deadletter")


def main() -> None:
    """Console-script entry point."""
    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None)
    module = _MODULE_OF_COMMAND.get(command or "")
    if module is None:  # help, --version, a mistyped command: every command is listed
        _register_commands(_ALL_MODULES)
    else:
        _register_commands((module,))
    _app()


def _register_commands(modules: tuple[str, ...]) -> None:
    for name in modules:
        if name not in _registered:
            _registered.add(name)
            importlib.import_module(f"agent.cli.{name}").register(_app)


_registered: set[str] = set()


def __getattr__(name: str) -> typer.Typer:
    """``from agent.cli.main import app`` (tests, other programs): every command registered."""
    if name == "app":
        _register_commands(_ALL_MODULES)
        return _app
    raise AttributeError(name)
