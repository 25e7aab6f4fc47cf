"""The state directory: the one place that creates it (``[state] dir``).

It holds the spool database, the dead-letter file and the IP-hash key, all of which name
players and addresses, so it is created mode 0700. Every writer of a file in it (the
spool, the dead-letter file, the wiring that hands the key's directory to
:func:`agent.encode.privacy.load_or_create_key`) calls :func:`ensure_state_dir` first, so
the mode and the error message are the same whichever of them runs first.
"""

from __future__ import annotations

from pathlib import Path

from agent.errors import AgentError

STATE_DIR_MODE = 0o700


def ensure_state_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) mode 0700 if missing; return it.

    An existing directory keeps its mode (the operator may have chosen another). A
    directory that cannot be created is an :class:`AgentError` naming ``state.dir``, the
    config key to fix, rather than an OSError traceback.
    """
    try:
        path.mkdir(mode=STATE_DIR_MODE, parents=True, exist_ok=True)
    except OSError as exc:
        raise AgentError(f"state.dir: cannot create {path}: {exc.strerror}") from exc
    return path
