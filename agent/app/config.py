"""The agent's configuration: a TOML file plus ``SERVEROPS_*`` environment variables.

Parsed once, at the edge (STYLE.md habit 8): components receive the typed sections below,
nothing reads the environment or the file in the middle. Precedence, highest first:

1. environment variables ``SERVEROPS_<SECTION>__<KEY>`` (``SERVEROPS_API__URL``);
2. the TOML file (``--config``, else ``$SERVEROPS_AGENT_CONFIG``, else
   ``/etc/serverops-agent/config.toml``);
3. the defaults documented in ``config.example.toml``.

The token is never a command-line argument. It comes from ``SERVEROPS_TOKEN``, else
``api.token_file``, else ``api.token`` (read by agent/app/apitoken.py); it is held as a
:class:`pydantic.SecretStr` so it never shows in a repr, a log line or an error message.
The ``[[servers]]`` tables and their checks live in agent/app/servers_config.py.

Every problem becomes a :class:`agent.errors.ConfigError` naming the key and the file
(exit code 2).
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from agent.app.logsetup import LogFormat
from agent.app.servers_config import Section, ServerConfig, check_found_ids, check_unique_ids
from agent.errors import ConfigError
from agent.model import Tag
from agent.parse.lines import DEFAULT_MAX_LINE_BYTES
from agent.ship.proxy import check_proxy_url
from agent.ship.tls import check_ca_file
from agent.ship.urls import check_url, is_loopback_host

DEFAULT_CONFIG_PATH = Path("/etc/serverops-agent/config.toml")
CONFIG_PATH_ENV = "SERVEROPS_AGENT_CONFIG"
ApiLevel = Literal["debug", "info", "warn", "error"]


class ApiConfig(Section):
    """``[api]``: where and how entries are sent."""

    url: str = "https://api.serverops.example"
    token: SecretStr | None = None
    token_file: Path | None = None
    allow_insecure_http: bool = False
    concurrency: int = Field(8, ge=1, le=64)
    timeout_seconds: float = Field(10.0, gt=0)
    batch_size: int = Field(256, ge=1, le=10_000)
    batch_linger_seconds: float = Field(0.2, ge=0)
    http2: bool = False
    shutdown_deadline_seconds: float = Field(10.0, ge=0)
    # Networks (agent/ship/proxy.py, agent/ship/tls.py): an explicit proxy URL, which wins
    # over HTTPS_PROXY/HTTP_PROXY and may hold user:password (kept out of the repr), and a
    # PEM file of CA certificates trusted in addition to the system store.
    proxy: str | None = Field(None, repr=False)
    ca_file: Path | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        return url.rstrip("/")

    @field_validator("proxy")
    @classmethod
    def _proxy_url(cls, url: str | None) -> str | None:
        if not url:
            return None
        try:
            return check_proxy_url(url, "api.proxy")
        except ConfigError as exc:  # the message never repeats the URL (credentials)
            raise ValueError(str(exc).removeprefix("api.proxy: ")) from None

    @field_validator("ca_file")
    @classmethod
    def _readable_ca_file(cls, path: Path | None) -> Path | None:
        if path is None:
            return None
        try:
            return check_ca_file(path)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None

    @property
    def is_loopback(self) -> bool:
        """True when the URL names this machine (plain http is allowed there)."""
        return is_loopback_host(urlsplit(self.url).hostname or "")


class StateConfig(Section):
    """``[state]``: where the spool, checkpoints, dead-letter file and IP-hash key live.

    Created 0700 by :func:`agent.state.statedir.ensure_state_dir` on first use; with
    ``[spool]`` it becomes the spool's options in one place, ``wiring.spool_options``.
    """

    dir: Path = Path("/var/lib/serverops-agent")


class SpoolConfig(Section):
    """``[spool]``: the on-disk buffer between reading and sending."""

    max_bytes: int = Field(1024**3, ge=1024 * 1024)


class ReaderConfig(Section):
    """``[reader]``: limits applied while reading lines and joining multi-line entries."""

    max_line_bytes: int = Field(DEFAULT_MAX_LINE_BYTES, ge=1024)
    multiline_max_lines: int = Field(500, ge=1)
    multiline_max_bytes: int = Field(256 * 1024, ge=1024)
    multiline_idle_seconds: float = Field(1.0, gt=0)


class FiltersConfig(Section):
    """``[filters]``: what is sent (every entry costs quota) and what is kept private."""

    send_raw_line: bool = False
    ip: Literal["keep", "hash", "drop"] = "keep"
    include_tags: list[str] = Field(default_factory=list)
    exclude_tags: list[str] = Field(default_factory=list)
    min_level: ApiLevel = "debug"
    exclude_patterns: list[str] = Field(default_factory=list)
    performance_sample_rate: float = Field(1.0, ge=0.0, le=1.0)

    @field_validator("include_tags", "exclude_tags")
    @classmethod
    def _known_tags(cls, tags: list[str]) -> list[str]:
        unknown = sorted(set(tags) - {tag.value for tag in Tag})
        if unknown:
            raise ValueError(f"unknown tag(s) {', '.join(unknown)}")
        return tags

    @field_validator("exclude_patterns")
    @classmethod
    def _valid_patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc
        return patterns


class MetricsConfig(Section):
    """``[metrics]``: the optional Prometheus endpoint."""

    enabled: bool = False
    address: str = "127.0.0.1"
    port: int = Field(9464, ge=1, le=65535)


class LoggingConfig(Section):
    """``[logging]``: the agent's own log on stderr."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    format: LogFormat = LogFormat.TEXT


class AgentConfig(BaseSettings):
    """The whole configuration. Build it with :func:`load_config`."""

    model_config = SettingsConfigDict(
        env_prefix="SERVEROPS_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    api: ApiConfig = Field(default_factory=ApiConfig)
    state: StateConfig = Field(default_factory=StateConfig)
    spool: SpoolConfig = Field(default_factory=SpoolConfig)
    servers: list[ServerConfig] = Field(default_factory=list)
    reader: ReaderConfig = Field(default_factory=ReaderConfig)
    filters: FiltersConfig = Field(default_factory=FiltersConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's values arrive as init kwargs; the environment must override them.
        return (env_settings, init_settings)

    @field_validator("servers")
    @classmethod
    def _unique_ids(cls, servers: list[ServerConfig]) -> list[ServerConfig]:
        return check_unique_ids(servers)


def resolve_config_path(path: Path | None) -> Path:
    """The config file to read: the argument, else $SERVEROPS_AGENT_CONFIG, else the default."""
    if path is not None:
        return path
    from_env = os.environ.get(CONFIG_PATH_ENV)
    return Path(from_env) if from_env else DEFAULT_CONFIG_PATH


def load_config(path: Path | None = None, *, require_file: bool = True) -> AgentConfig:
    """Read, merge and validate the configuration, or raise ConfigError naming key and file."""
    config_path = resolve_config_path(path)
    data = _read_toml(config_path, require_file=require_file)
    try:
        config = AgentConfig(**data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, config_path)) from None
    _check_transport_security(config.api, config_path)
    check_found_ids(config.servers, config_path)
    return config


def _read_toml(path: Path, *, require_file: bool) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        if require_file:
            raise ConfigError(f"{path}: config file not found") from None
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _describe(exc: ValidationError, path: Path) -> str:
    """One line per problem: ``file: key.path: message`` (never the rejected value itself,
    which could be the token)."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        variable = _env_variable_for(error["loc"])
        where = f"environment variable {variable} ({key})" if variable else f"{path}: {key}"
        problems.append(f"{where}: {message}")
    return "\n".join(problems)


def _env_variable_for(loc: tuple[int | str, ...]) -> str | None:
    """The ``SERVEROPS_*`` variable that set the value at ``loc``, if one did: the
    environment wins over the file, so a bad value there is the variable's fault. The
    longest match counts (``SERVEROPS_API__CONCURRENCY`` before a JSON ``SERVEROPS_API``)."""
    present = {name.upper(): name for name in os.environ if name.upper().startswith("SERVEROPS_")}
    parts = [str(part).upper() for part in loc]
    for length in range(len(parts), 0, -1):
        name = "SERVEROPS_" + "__".join(parts[:length])
        if name in present:
            return present[name]
    return None


def _check_transport_security(api: ApiConfig, path: Path) -> None:
    try:
        check_url(api.url, allow_insecure_http=api.allow_insecure_http)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if api.token is not None and api.token_file is not None:
        raise ConfigError(f"{path}: api.token and api.token_file are both set; keep one")
