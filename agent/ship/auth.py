"""The API token as the uploader sees it: redacted everywhere, reloadable, and the one
rule a token must pass (:func:`validate_token`), wherever it is read.

The token is held as :class:`pydantic.SecretStr` (``repr``/``str`` print ``**********``),
the type config.py already uses, so no second secret type exists. Where it comes from
(config value, ``SERVEROPS_TOKEN``, token file) is config.py's business
(:func:`agent.app.apitoken.read_token`); the provider just calls a loader again when the API
said ``unauthorized``/``forbidden``, so a rotated token file is picked up without a restart.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from pydantic import SecretStr

from agent import events
from agent.errors import AgentError, ConfigError

log = logging.getLogger(__name__)

TokenLoader = Callable[[], SecretStr]

# The one token rule (``run``, ``check``, SIGHUP and ``backfill`` all load through
# :func:`validate_token`): ``so_live_`` or ``so_test_`` and at least 8 printable ASCII
# characters without whitespace. A header value with a newline or a control character
# would be refused by the HTTP library at the first request, after the daemon started,
# so it is refused here, when the token is loaded, with the source named.
TOKEN_PREFIXES = ("so_live_", "so_test_")
TOKEN_PATTERN = re.compile(r"^so_(live|test)_[\x21-\x7e]{8,}$")


def validate_token(raw: str, source: str) -> SecretStr:
    """The token in ``raw`` (surrounding whitespace and one trailing newline removed), or
    a :class:`ConfigError` naming ``source`` and what is wrong, never the value itself.

    A token file holds the token alone: a second line (even a ``# comment``) is refused,
    because the operator may have meant either line.
    """
    value = raw.strip()
    if not value:
        raise ConfigError(f"{source}: the token is empty")
    if "\n" in value or "\r" in value:
        raise ConfigError(
            f"{source}: the token has more than one line; it must hold the token alone "
            "(no comment lines)"
        )
    if any(ch.isspace() for ch in value):
        raise ConfigError(f"{source}: the token contains whitespace")
    if not value.isascii() or not value.isprintable():
        raise ConfigError(f"{source}: the token contains a non-printable or non-ASCII character")
    if TOKEN_PATTERN.match(value) is None:
        raise ConfigError(
            f"{source}: not a ServerOps token (expected so_live_... or so_test_... with at "
            "least 8 characters after the prefix)"
        )
    return SecretStr(value)


class TokenProvider:
    """The current token, and a way to read it again."""

    def __init__(self, load: TokenLoader) -> None:
        self._load = load
        self._token = load()

    def __repr__(self) -> str:
        return "TokenProvider(token=**********)"

    def current(self) -> SecretStr:
        """The token loaded last."""
        return self._token

    def reload(self) -> SecretStr:
        """Read the token again; on failure keep the old one (and say so, without it)."""
        try:
            self._token = self._load()
        except (AgentError, OSError) as exc:
            log.error("%s: %s; keeping the previous token", events.TOKEN_RELOAD_FAILED, exc)
        return self._token


def static_token(value: str) -> TokenProvider:
    """A provider of a fixed token (tests, benchmarks)."""
    secret = SecretStr(value)
    return TokenProvider(lambda: secret)
