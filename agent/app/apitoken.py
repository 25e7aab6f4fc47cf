"""The API token: where it is read from and the one rule it must pass.

The token is never a command-line argument. It comes from ``SERVEROPS_TOKEN``, else
``api.token_file``, else ``api.token`` (:func:`read_token`); ``check`` reads a file it is
given the same way (:func:`read_token_file`). Every path ends in
:func:`agent.ship.auth.validate_token`, so ``run``, ``check``, ``backfill`` and SIGHUP
accept and refuse the same tokens, and errors name the source, never the value.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import SecretStr

from agent.app.config import ApiConfig
from agent.errors import ConfigError
from agent.ship.auth import TOKEN_PATTERN, validate_token

TOKEN_ENV = "SERVEROPS_TOKEN"


def token_source_description(api: ApiConfig) -> str:
    """Where the token will come from, for messages (never the token itself)."""
    if os.environ.get(TOKEN_ENV) is not None:
        return f"environment variable {TOKEN_ENV}"
    if api.token_file is not None:
        return f"token file {api.token_file}"
    if api.token is not None:
        return "api.token in the config file"
    return "nowhere (set SERVEROPS_TOKEN, api.token_file or api.token)"


def read_token(api: ApiConfig) -> SecretStr:
    """The API token, read now and checked by the one token rule
    (:func:`agent.ship.auth.validate_token`); call again after SIGHUP to pick up a rotated
    token. A set but empty ``SERVEROPS_TOKEN`` is an error, not a fall-through: the operator
    meant it to be the token."""
    from_env = os.environ.get(TOKEN_ENV)
    if from_env is not None:
        return validate_token(from_env, f"environment variable {TOKEN_ENV}")
    if api.token_file is not None:
        return read_token_file(api.token_file, "api.token_file")
    if api.token is not None:
        return validate_token(api.token.get_secret_value(), "api.token in the config file")
    raise ConfigError(f"no API token: {token_source_description(api)}")


def read_token_file(path: Path, key: str) -> SecretStr:
    """The token held alone in the file at ``path`` (``key`` names where the path came
    from: a config key, an option, a systemd credential)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{key}: {path} is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{key}: cannot read {path}: {exc.strerror}") from None
    return validate_token(raw, f"{key} ({path})")


def token_format_ok(token: SecretStr) -> bool:
    """True when the token looks like a ServerOps token (``so_live_…`` / ``so_test_…``)."""
    return TOKEN_PATTERN.match(token.get_secret_value()) is not None
