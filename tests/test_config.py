"""Configuration: file + environment, defaults documented, errors that name key and file."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from agent.app.apitoken import read_token, token_format_ok
from agent.app.config import AgentConfig, load_config
from agent.app.servers_config import ServerConfig
from agent.app.wiring import build_sources, open_spool, spool_options
from agent.errors import ConfigError
from agent.metrics import Metrics
from agent.state.spool import SPOOL_FILE, SpoolOptions

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "config.example.toml"

MINIMAL = """
[api]
url = "https://api.example.com"
token_file = "{token_file}"

[[servers]]
id = "survival"
log = "/srv/mc/logs/latest.log"
"""


@pytest.fixture(autouse=True)
def _no_serverops_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings from the developer's shell must not leak into these tests."""
    for name in [n for n in os.environ if n.startswith("SERVEROPS_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    token = tmp_path / "token"
    token.write_text("so_test_abcdefgh12345678\n")
    path = tmp_path / "config.toml"
    path.write_text(MINIMAL.format(token_file=token))
    return path


def _all_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= _all_keys(annotation, f"{prefix}{name}.")
        else:
            keys.add(prefix + name)
    return keys


class TestExampleFile:
    def test_example_parses_and_matches_the_defaults(self) -> None:
        """config.example.toml is valid and every value it shows is the real default."""
        example = load_config(EXAMPLE)
        defaults = AgentConfig()
        for section in ("api", "state", "spool", "reader", "filters", "metrics", "logging"):
            assert getattr(example, section) == getattr(defaults, section), section
        # The [[servers]] table it shows: every key but id and log is its default.
        shown = example.servers[0]
        default = ServerConfig(id=shown.id, log=shown.log)
        assert shown == default

    def test_example_documents_every_key(self) -> None:
        """Every configuration key appears in config.example.toml (set or commented out)."""
        text = EXAMPLE.read_text()
        missing = []
        for key in sorted(_all_keys(AgentConfig)):
            section, _, name = key.rpartition(".")
            if not re.search(rf"^#?\s*{re.escape(name)} =", text, re.MULTILINE):
                missing.append(key)
            assert section == "" or f"[{section}]" in text or f"[[{section}]]" in text
        server_keys = {f"servers.{k}" for k in ("id", "log", "timezone", "encoding", "read_from")}
        assert not [k for k in missing if k not in server_keys and k != "servers"]
        assert tomllib.loads(text)["servers"][0]["id"] == "survival"


class TestLoading:
    def test_environment_overrides_the_file(
        self, config_file: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """SERVEROPS_API__CONCURRENCY beats the file; other keys of the table stay."""
        monkeypatch.setenv("SERVEROPS_API__CONCURRENCY", "3")
        config = load_config(config_file)
        assert config.api.concurrency == 3
        assert config.api.url == "https://api.example.com"
        assert config.servers[0].id == "survival"

    @pytest.mark.parametrize(
        ("extra", "expected"),
        [
            ('[filters]\nip = "mask"\n', r"filters\.ip: Input should be 'keep', 'hash' or 'drop'"),
            ("[filters]\nbogus = 1\n", r"filters\.bogus: unknown key"),
            (
                '[filters]\ninclude_tags = ["chatt"]\n',
                r"filters\.include_tags: unknown tag\(s\) chatt",
            ),
            (
                '[filters]\nexclude_patterns = ["("]\n',
                r"filters\.exclude_patterns: invalid regular",
            ),
            ("[api]\nconcurrency = 0\n", r"api\.concurrency: Input should be greater"),
            (
                '[[servers]]\nid = "b"\nlog = "x"\ntimezone = "Mars/Olympus"\n',
                r"servers\.1\.timezone: unknown timezone 'Mars/Olympus'",
            ),
            ('[[servers]]\nid = "b"\nlog = "x"\nencoding = "utf-9"\n', r"unknown encoding 'utf-9'"),
            (
                '[[servers]]\nid = "survival"\nlog = "x"\n',
                r"servers: duplicate server id\(s\) survival",
            ),
        ],
    )
    def test_errors_name_the_file_and_the_key(
        self, config_file: Path, extra: str, expected: str
    ) -> None:
        """A wrong value is a ConfigError that names the file and the key path."""
        text = config_file.read_text()
        if extra.startswith("[api]"):
            text = text.replace("[api]\n", extra)
        else:
            text += extra
        config_file.write_text(text)
        with pytest.raises(ConfigError) as raised:
            load_config(config_file)
        assert str(config_file) in str(raised.value)
        assert re.search(expected, str(raised.value)), str(raised.value)

    def test_missing_file_and_bad_toml(self, tmp_path: Path) -> None:
        """A missing or malformed file is a ConfigError, not a traceback."""
        with pytest.raises(ConfigError, match="config file not found"):
            load_config(tmp_path / "nope.toml")
        bad = tmp_path / "bad.toml"
        bad.write_text("[api\n")
        with pytest.raises(ConfigError, match="not valid TOML"):
            load_config(bad)

    def test_plain_http_only_to_loopback(self, config_file: Path) -> None:
        """http:// to a remote host is refused unless allow_insecure_http is set."""
        config_file.write_text(
            config_file.read_text().replace("https://api.example.com", "http://api.example.com")
        )
        with pytest.raises(ConfigError, match="plain http is only allowed"):
            load_config(config_file)
        config_file.write_text(
            config_file.read_text().replace("http://api.example.com", "http://127.0.0.1:9")
        )
        assert load_config(config_file).api.is_loopback


class TestToken:
    def test_token_never_shows_in_repr_or_errors(
        self, config_file: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The token is a secret: not in repr(config), not in a validation error."""
        secret = "so_live_SECRETSECRET123"
        monkeypatch.setenv("SERVEROPS_API__TOKEN", secret)
        monkeypatch.setenv("SERVEROPS_API__TOKEN_FILE", "")
        text = config_file.read_text().replace('token_file = "', 'timeout_seconds = -1\n# "')
        config_file.write_text(text)
        with pytest.raises(ConfigError) as raised:
            load_config(config_file)
        assert secret not in str(raised.value)

    def test_token_precedence(self, config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """SERVEROPS_TOKEN wins over the token file, which is re-read on each call."""
        config = load_config(config_file)
        assert read_token(config.api).get_secret_value() == "so_test_abcdefgh12345678"
        assert "so_test" not in repr(config) and "so_test" not in str(config)
        Path(config.api.token_file or "").write_text("so_live_rotated0000000\n")
        assert read_token(config.api).get_secret_value() == "so_live_rotated0000000"
        monkeypatch.setenv("SERVEROPS_TOKEN", "so_live_fromenv00000000")
        assert read_token(config.api).get_secret_value() == "so_live_fromenv00000000"

    @pytest.mark.parametrize(
        ("token", "ok"),
        [
            ("so_live_abcdefgh1234", True),
            ("so_test_x-y_z12345", True),
            ("sk_live_abcdefgh", False),
            ("so_live_", False),
        ],
    )
    def test_token_format(self, token: str, ok: bool) -> None:
        """Only so_live_/so_test_ tokens pass the format check."""
        from pydantic import SecretStr

        assert token_format_ok(SecretStr(token)) is ok


class TestStateAndSpool:
    def test_state_and_spool_reach_the_spool_options(
        self, config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """[state] dir and [spool] max_bytes (file or environment) become the open spool's
        options, through wiring.spool_options alone."""
        with config_file.open("a") as file:
            file.write(f'\n[state]\ndir = "{tmp_path / "state"}"\n[spool]\nmax_bytes = 2097152\n')
        monkeypatch.setenv("SERVEROPS_SPOOL__MAX_BYTES", "3145728")
        config = load_config(config_file)
        options = spool_options(config)
        assert options == SpoolOptions(tmp_path / "state" / SPOOL_FILE, max_bytes=3145728)
        spool = open_spool(config, Metrics())
        assert spool.options == options
        assert spool.stats().max_bytes == 3145728
        spool.close()


class TestPatterns:
    PATTERN = """
[[servers.patterns]]
regex = '^\\[\\w+\\] (?P<username>\\w{{3,16}}) » (?P<chat>.*)$'
tags = ["chat"]

[[servers.patterns]]
regex = '{regex}'
tags = {tags}
"""

    def write(self, config_file: Path, regex: str, tags: str) -> None:
        text = config_file.read_text() + self.PATTERN.format(regex=regex, tags=tags)
        config_file.write_text(text, encoding="utf-8")

    def test_valid_patterns_load(self, config_file: Path) -> None:
        """Patterns load in order with their tags; wiring compiles them into the reader."""
        self.write(config_file, r"^(?P<x>\S+) (?P<y>\S+) (?P<z>\S+)$", '["death"]')
        config = load_config(config_file)
        assert [p.tags for p in config.servers[0].patterns] == [["chat"], ["death"]]
        compiled = build_sources(config)[0].options.patterns
        assert compiled is not None and len(compiled.patterns) == 2

    def test_no_patterns_no_matcher(self, config_file: Path) -> None:
        """Without [[servers.patterns]] the reader gets None (nothing added per line)."""
        assert build_sources(load_config(config_file))[0].options.patterns is None

    @pytest.mark.parametrize(
        ("regex", "tags", "expected"),
        [
            ("(?P<username>", '["chat"]', r"servers\.0\.patterns\.1\.regex: invalid regular"),
            (r"(?P<uuid>\S+)", '["chat"]', r"servers\.0\.patterns\.1\.regex: unknown group"),
            (r"(?P<x>\d+)", '["chat"]', r"servers\.0\.patterns\.1\.regex: a location needs"),
            ("^x$", '["chatt"]', r"servers\.0\.patterns\.1\.tags: unknown tag\(s\) chatt"),
            ("^x$", "[]", r"servers\.0\.patterns\.1\.tags: at least one tag"),
        ],
    )
    def test_bad_pattern_names_its_key(
        self, config_file: Path, regex: str, tags: str, expected: str
    ) -> None:
        """A bad regex, an unknown group or an unknown tag is a ConfigError naming the key."""
        self.write(config_file, regex, tags)
        with pytest.raises(ConfigError, match=expected):
            load_config(config_file)

    def test_the_example_pattern_is_valid(self, tmp_path: Path) -> None:
        """The pattern config.example.toml shows (commented out) loads and matches its line."""
        text = EXAMPLE.read_text(encoding="utf-8")
        block = text[text.index("# [[servers.patterns]]") :].split("\n\n")[0]
        enabled = text.replace(block, re.sub(r"^# ", "", block, flags=re.MULTILINE))
        (tmp_path / "config.toml").write_text(enabled, encoding="utf-8")
        [pattern] = load_config(tmp_path / "config.toml").servers[0].patterns
        compiled = build_sources(load_config(tmp_path / "config.toml"))[0].options.patterns
        assert compiled is not None
        event = compiled.match("[Member] Steve » hi")
        assert event is not None and event.fields == {"username": "Steve", "chat": "hi"}
        assert pattern.tags == ["chat"]

    def test_unknown_pattern_key(self, config_file: Path) -> None:
        """A typo in a pattern's keys is refused like any unknown key."""
        config_file.write_text(
            config_file.read_text() + '[[servers.patterns]]\nregexp = "x"\ntags = ["chat"]\n'
        )
        with pytest.raises(ConfigError, match=r"servers\.0\.patterns\.0\.regexp: unknown key"):
            load_config(config_file)
