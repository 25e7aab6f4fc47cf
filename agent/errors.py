"""The agent's exception tree. Every error the agent raises on purpose is one of these.

AgentError
├── ConfigError          a configuration value is wrong (exit code 2)
├── PathError            a path given on the command line names nothing readable (exit 2)
├── SourceError          a log source cannot be opened or read
├── SpoolError           the spool database cannot be opened, migrated or written
└── ShipError            delivering entries to the API failed
    ├── RetryableShipError   transient: retry with backoff (5xx, 429, timeouts, bad gateways)
    ├── PausedShipError      stop sending until the operator acts or time passes (auth, quota)
    └── FatalShipError       this entry will never be accepted: dead-letter it (bad_request)

Low-level errors (OSError, httpx errors, sqlite3 errors) are translated into these at the
module boundary with ``raise ... from exc`` so callers handle meanings, not libraries.
"""


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
    """A transient failure: the same request may succeed later."""


class PausedShipError(ShipError):
    """Sending must pause (revoked token, missing scope, quota exhausted); nothing is dropped."""


class FatalShipError(ShipError):
    """The API rejected this entry for good; it goes to the dead-letter file."""
