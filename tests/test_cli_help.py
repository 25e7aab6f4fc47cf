"""Every command's ``--help``, rendered as in a terminal without colour, reads as written.

Rich help once read ``[[servers]]`` as markup and printed "The [] id", showed ``<bool>``
after every flag and kept the reST double backticks of a docstring. These tests render
the root and every registered command (new ones included) and look for those defects,
and for every option's own help text on the page, intact.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from agent.cli.main import app
from agent.model import Tag

PLAIN_TERMINAL = {"TERM": "dumb", "NO_COLOR": "1"}
ROOT: Any = typer.main.get_command(app)
COMMANDS = sorted(ROOT.commands)
EVERY_HELP = [pytest.param((), id="root")] + [pytest.param((name,), id=name) for name in COMMANDS]


def render(*args: str, columns: int = 200) -> str:
    """The output of ``serverops-agent ARGS...`` in a terminal that wide; it must exit 0."""
    env = {**PLAIN_TERMINAL, "COLUMNS": str(columns)}
    result = CliRunner().invoke(app, list(args), env=env, terminal_width=columns)
    assert result.exit_code == 0, result.output
    return result.output


def squeezed(text: str) -> str:
    """The text without whitespace or table borders: wrapping does not change it."""
    return re.sub(r"[\s│]+", "", text)


def test_the_six_commands_are_registered() -> None:
    """The commands the README documents are the ones the app has."""
    assert COMMANDS == ["backfill", "check", "deadletter", "parse", "run", "status"]


@pytest.mark.parametrize("columns", [80, 200])
def test_root_help_lists_every_command_with_its_summary(columns: int) -> None:
    """The root help names each command with its whole summary, even in 80 columns."""
    page = render("--help", columns=columns)
    for name in COMMANDS:
        command = ROOT.commands[name]
        summary = command.help.strip().split("\n\n")[0]
        assert not command.hidden
        assert re.search(rf"^[\s│]*{name}\s", page, re.MULTILINE), name
        assert squeezed(summary) in squeezed(page), name


@pytest.mark.parametrize("command", EVERY_HELP)
def test_help_has_no_rendering_defects(command: tuple[str, ...]) -> None:
    """No reST backticks, no text eaten as markup, no <bool> placeholder after a flag."""
    page = render(*command, "--help")
    assert "``" not in page
    assert re.search(r"\[\s*\]", page) is None, page
    assert "<bool>" not in page
    assert "default: format" not in page


@pytest.mark.parametrize("command", EVERY_HELP)
def test_every_parameter_is_listed_with_its_help(command: tuple[str, ...]) -> None:
    """Each option and argument appears under its names with its own help text, whole."""
    page = render(*command, "--help")
    params = (ROOT.commands[command[0]] if command else ROOT).params
    for param in params:
        assert not getattr(param, "hidden", False), param.name
        assert (param.help or "").strip(), f"{param.name} has no help text"
        assert squeezed(param.help) in squeezed(page), param.name
        for name in [*param.opts, *getattr(param, "secondary_opts", [])]:
            if name.startswith("-"):
                assert re.search(rf"(^|[\s,/]){re.escape(name)}\b", page), name


def test_log_format_is_a_choice() -> None:
    """``run --log-format`` shows its two values and refuses a third before reading a config."""
    assert re.search(r"text\|json", render("run", "--help"))
    result = CliRunner().invoke(app, ["run", "--log-format", "yaml", "--config", "/nonexistent"])
    assert result.exit_code == 2
    assert "yaml" in result.output and "text" in result.output


@pytest.mark.parametrize("command", ["parse", "backfill"])
def test_tag_help_names_every_tag(command: str) -> None:
    """``--tag`` lists the tags it accepts."""
    listed = ", ".join(tag.value for tag in Tag)
    assert squeezed(listed) in squeezed(render(command, "--help"))
