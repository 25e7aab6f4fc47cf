"""The API token as the uploader sees it: redacted everywhere, reloadable.

The token is held as :class:`pydantic.SecretStr` (``repr``/``str`` print ``**********``),
the type config.py already uses, so no second secret type exists. Where it comes from
(config value, ``SERVEROPS_TOKEN``, token file) is config.py's business
(:func:`agent.app.config.read_token`); the provider just calls a loader again when the API
said ``unauthorized``/``forbidden``, so a rotated token file is picked up without a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pydantic import SecretStr

from agent import events
from agent.errors import AgentError

log = logging.getLogger(__name__)

TokenLoader = Callable[[], SecretStr]


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
