"""Issue 10 items 1 and 4: one token rule for ``run``, ``check`` and SIGHUP.

A token file with a second line used to start the daemon, whose upload task then died
at the first request (aiohttp refuses a header with a newline) while `check` refused
tokens `run` used. Now the token is checked when it is loaded, by one rule, and a bad
one is refused at start (exit 2) with its source named and never its value.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
from pathlib import Path

import pytest
from agent_process import agent_command, agent_env, run_agent, stop, wait_for
from pydantic import SecretStr
from receiver import Receiver
from test_daemon_e2e import chat_lines
from typer.testing import CliRunner

from agent.app.apitoken import read_token
from agent.app.check import run_checks
from agent.app.config import AgentConfig, load_config
from agent.cli.main import app
from agent.errors import ConfigError
from agent.ship.auth import TokenProvider, validate_token

TOKEN = "so_test_tokenrule0000"
SECRET_PART = "tokenrule0000"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [
        n for n in os.environ if n.startswith("SERVEROPS_") or n == "CREDENTIALS_DIRECTORY"
    ]:
        monkeypatch.delenv(name)


class TestTheRule:
    @pytest.mark.parametrize(
        "raw",
        [
            TOKEN,
            TOKEN + "\n",  # a file written by an editor
            TOKEN + "\r\n",
            "  " + TOKEN + "  \n",
            "so_live_Ab.c+d/e=f~9",  # printable ASCII after the prefix
        ],
    )
    def test_accepted(self, raw: str) -> None:
        assert validate_token(raw, "somewhere").get_secret_value() == raw.strip()

    @pytest.mark.parametrize(
        ("raw", "why"),
        [
            ("", "empty"),
            ("\n", "empty"),
            (TOKEN + "\n# prod token\n", "more than one line"),
            ("# prod token\n" + TOKEN, "more than one line"),
            ("so_test_abc def12345", "whitespace"),
            ("so_test_abc\tdef12345", "whitespace"),
            ("so_test_abcdéf12345", "non-printable or non-ASCII"),
            ("so_test_abc\x00def12345", "non-printable"),
            ("sk_live_abcdefgh1234", "not a ServerOps token"),
            ("so_live_short", "not a ServerOps token"),
        ],
    )
    def test_refused_naming_the_source_not_the_value(self, raw: str, why: str) -> None:
        with pytest.raises(ConfigError) as caught:
            validate_token(raw, "token file /etc/x")
        message = str(caught.value)
        assert message.startswith("token file /etc/x: ") and why in message
        assert raw.strip() == "" or raw.strip()[8:] not in message

    def test_empty_environment_variable_is_refused_not_skipped(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """SERVEROPS_TOKEN set but empty is the operator's mistake, said as such."""
        token_file = tmp_path / "token"
        token_file.write_text(TOKEN)
        config = AgentConfig.model_validate({"api": {"token_file": token_file}})
        monkeypatch.setenv("SERVEROPS_TOKEN", "")
        with pytest.raises(ConfigError, match=r"environment variable SERVEROPS_TOKEN: .*empty"):
            read_token(config.api)

    def test_reload_keeps_the_old_token(self, tmp_path: Path) -> None:
        """The provider behind SIGHUP: a bad new token is logged and the old one kept."""
        token_file = tmp_path / "token"
        token_file.write_text(TOKEN + "\n")
        config = AgentConfig.model_validate({"api": {"token_file": token_file}})
        provider = TokenProvider(lambda: read_token(config.api))
        token_file.write_text(TOKEN + "\n# prod token\n")
        assert provider.reload().get_secret_value() == TOKEN


def write_config(tmp_path: Path, url: str, token_text: str) -> Path:
    logs = tmp_path / "survival" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    if not (logs / "latest.log").exists():
        (logs / "latest.log").write_bytes(chat_lines(0, 20))
    token_file = tmp_path / "token"
    token_file.write_text(token_text)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[api]\nurl = "{url}"\ntoken_file = "{token_file}"\n'
        f'[state]\ndir = "{tmp_path / "state"}"\n'
        f'[[servers]]\nid = "survival"\nlog = "{logs / "latest.log"}"\n'
        'read_from = "beginning"\ntimezone = "UTC"\n'
        "[reader]\nmultiline_idle_seconds = 0.2\n"
    )
    return config


class TestRun:
    def test_a_token_file_with_a_comment_line_is_refused_at_start(self, tmp_path: Path) -> None:
        """exit 2 before anything starts, the file named, the token not shown, no traceback."""
        config = write_config(tmp_path, "http://127.0.0.1:9", TOKEN + "\n# prod token\n")
        result = run_agent(config)
        assert result.returncode == 2, result.stderr
        assert str(tmp_path / "token") in result.stderr
        assert "more than one line" in result.stderr
        assert SECRET_PART not in result.stderr and "Traceback" not in result.stderr

    def test_an_empty_token_file_is_refused_at_start(self, tmp_path: Path) -> None:
        config = write_config(tmp_path, "http://127.0.0.1:9", "\n")
        result = run_agent(config)
        assert result.returncode == 2 and "api.token_file" in result.stderr, result.stderr
        assert "the token is empty" in result.stderr

    def test_sighup_with_a_bad_token_keeps_sending_with_the_old_one(self, tmp_path: Path) -> None:
        """A second line written into the token file, then SIGHUP: an error naming the
        file, and the daemon keeps sending with the token it had."""
        with Receiver(token=TOKEN) as rx:
            config = write_config(tmp_path, rx.url, TOKEN + "\n")
            agent = subprocess.Popen(
                agent_command(config),
                stderr=(tmp_path / "agent.log").open("wb"),
                stdout=subprocess.DEVNULL,
                env=agent_env(),
            )
            try:
                wait_for(lambda: rx.state.accepted_total >= 20, "the first 20 entries")
                (tmp_path / "token").write_text(TOKEN + "\n# prod token\n")
                agent.send_signal(signal.SIGHUP)
                log = tmp_path / "agent.log"
                wait_for(lambda: "token.reload_failed" in log.read_text(), "the reload error")
                with (tmp_path / "survival" / "logs" / "latest.log").open("ab") as file:
                    file.write(chat_lines(20, 20))
                wait_for(lambda: rx.state.accepted_total >= 40, "entries after the bad reload")
            finally:
                code = stop(agent)
            assert code == 0
        text = (tmp_path / "agent.log").read_text()
        assert "keeping the previous token" in text and str(tmp_path / "token") in text
        assert SECRET_PART not in text


class TestCheck:
    runner = CliRunner()

    def test_check_passes_a_token_run_accepts_and_probes(self, tmp_path: Path) -> None:
        """A token with punctuation after the prefix: run's rule accepts it, so check does
        (the old check rule FAILed it and skipped the token probe)."""
        token = "so_live_Ab.c+d/e=f~9"
        with Receiver(token=token) as rx:
            config = write_config(tmp_path, rx.url, token + "\n")
            results = {r.name: r for r in run_checks(load_config(config))}
        assert results["token"].ok, results["token"].detail
        assert f"live token from token file {tmp_path / 'token'}" in results["token"].detail
        assert results["api token"].ok, results["api token"].detail

    def test_credentials_directory_stands_in_for_the_service_path(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """README step 4: token_file names /run/credentials/..., which exists only in the
        service; under systemd-run with LoadCredential, $CREDENTIALS_DIRECTORY/token is read
        and named as the source."""
        with Receiver(token=TOKEN) as rx:
            config = write_config(tmp_path, rx.url, "")
            text = config.read_text().replace(
                f'token_file = "{tmp_path / "token"}"',
                'token_file = "/run/credentials/serverops-agent.service/token"',
            )
            config.write_text(text)
            credentials = tmp_path / "credentials"
            credentials.mkdir()
            (credentials / "token").write_text(TOKEN + "\n")
            without = {r.name: r for r in run_checks(load_config(config))}
            monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
            result = self.runner.invoke(app, ["check", "--config", str(config)])
        assert not without["token"].ok and "--token-file" in without["token"].detail
        assert f"PASS  token: test token from systemd credential {credentials / 'token'}" in (
            result.output
        )
        assert "PASS  api token: accepted" in result.output
        assert SECRET_PART not in result.output

    def test_token_file_option_and_standard_input(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """--token-file PATH and --token-file - (what root pipes in for the agent's user)."""
        with Receiver(token=TOKEN) as rx:
            config = write_config(tmp_path, rx.url, "not a token")
            other = tmp_path / "other-token"
            other.write_text(TOKEN + "\n")
            by_path = {r.name: r for r in run_checks(load_config(config), token_file=other)}
            monkeypatch.setattr("sys.stdin", io.StringIO(TOKEN + "\n"))
            by_stdin = {r.name: r for r in run_checks(load_config(config), token_file=Path("-"))}
        assert by_path["token"].detail == f"test token from --token-file {other}"
        assert by_path["api token"].ok
        assert "standard input" in by_stdin["token"].detail and by_stdin["api token"].ok

    def test_a_bad_token_still_probes_the_api(self, tmp_path: Path) -> None:
        """The token FAILs with its source named; the API is still probed for reachability."""
        with Receiver(token=TOKEN) as rx:
            config = write_config(tmp_path, rx.url, TOKEN + "\n# prod token\n")
            results = {r.name: r for r in run_checks(load_config(config))}
        assert not results["token"].ok and "more than one line" in results["token"].detail
        assert results["api reachable"].ok
        assert SECRET_PART not in results["token"].detail


def test_secretstr_never_prints() -> None:
    assert SECRET_PART not in repr(validate_token(TOKEN, "x")) + str(SecretStr(TOKEN))
