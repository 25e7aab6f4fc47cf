"""The agent's exception tree. Every error the agent raises on purpose is one of these.

AgentError
├── ConfigError          a configuration value is wrong (exit code 2)
├── PathError            a path given on the command line names nothing readable (exit 2)
├── SourceError          a log source cannot be opened or read
├── SpoolError           the spool database cannot be opened, migrated or written
├── StateLockedError     another process holds the state dir's lock (exit 2)
├── UnreadableStateError the state dir cannot be read by this user (exit 2)
└── ShipError            delivering entries to the API failed
    ├── RetryableShipError   transient: retry with backoff (5xx, 429, timeouts, bad gateways,
    │                        refused connections); carries ``status`` (None when no HTTP answer
    │                        came back) and the server's ``retry_after`` in seconds
    ├── PausedShipError      stop sending for everyone until the operator acts or time passes;
    │                        ``reason`` is a :class:`PauseReason` (AUTH, QUOTA, CONFIG), with the
    │                        answer's ``status``, API ``error`` object and ``retry_after``
    └── FatalShipError       this entry will never be accepted: dead-letter it (bad_request);
                             carries the answer's ``status`` and ``body`` for the dead-letter file

The three ship errors are built from the API's answer by one function,
:func:`agent.ship.retry.failure` (the retry rule), or by the transport when no answer came
back. Low-level errors (OSError, httpx/aiohttp errors, sqlite3 errors) are translated into
these at the module boundary with ``raise ... from exc`` so callers handle meanings, not
libraries.
"""

from __future__ import annotations

from enum import Enum
from typing import Any


class PauseReason(Enum):
    """Why sending paused: it decides how long to wait and what happens before the probe."""

    AUTH = "auth"  # unauthorized/forbidden: the token is reloaded before the probe
    QUOTA = "quota"  # quota_exceeded: only time (or a larger plan) helps
    CONFIG = "config"  # 404/405 from POST {url}/logs: a wrong URL; resumes on SIGHUP


class AgentError(Exception):
    """Base of every error the agent raises on purpose."""


class ConfigError(AgentError):
    """A configuration value is missing or wrong; the message names the key and the file."""


class PathError(AgentError):
    """A path argument names nothing readable (a usage error: exit 2)."""


class SourceError(AgentError):
    """A log source cannot be opened, read or decompressed."""


class SpoolError(AgentError):
    """The spool database cannot be opened, is of an unknown version, or a write failed."""


class ShipError(AgentError):
    """Delivering entries to the API failed."""


class RetryableShipError(ShipError):
    """A transient failure: the same request may succeed later.

    ``status`` is None when no HTTP answer came back (timeout, refused, reset);
    ``retry_after`` is the server's Retry-After in seconds when it sent one.
    """

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class PausedShipError(ShipError):
    """Sending must pause for everyone (revoked token, missing scope, quota exhausted);
    nothing is dropped. ``error`` is the API's error object (its quota figures are logged)."""

    def __init__(
        self,
        message: str,
        *,
        reason: PauseReason,
        status: int | None = None,
        error: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status
        self.error = error
        self.retry_after = retry_after


class FatalShipError(ShipError):
    """The API rejected this entry for good; it goes to the dead-letter file with the
    answer's ``status`` and ``body``."""

    def __init__(self, message: str, *, status: int, body: bytes = b"") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


# -- the state directory's lock and readability (issue 10) ------------------------------


class StateLockedError(AgentError):
    """Another live process holds the state dir's lock (exit 2); ``pid`` is the holder's,
    None when it could not be read."""

    def __init__(self, message: str, *, pid: int | None = None) -> None:
        super().__init__(message)
        self.pid = pid


class UnreadableStateError(AgentError):
    """The state dir or a file in it cannot be read by this user (exit 2, with a hint)."""
