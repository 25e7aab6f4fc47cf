"""``--server-id`` for ``parse`` and ``backfill``: which ``[[servers]]`` entry a command
reads as (its patterns, timezone, encoding and ``[reader]`` limits).

Both commands choose the same way: the id given, else the only server; a glob's
servers count by their filled ids (``{1}`` -> the folder found now). Errors are
ValueError with the message for the operator; each command turns it into its usage
error (exit 2).
"""

from __future__ import annotations

import re

from agent.sources.globs import SERVER_ID_PATTERN
from agent.sources.tail.source import ServerSource

DEFAULT_SERVER_ID = "default"  # meta.server_id when neither --server-id nor a config says


def check_server_id(server_id: str) -> str:
    """``server_id`` if it is a valid server id, else ValueError."""
    if re.match(SERVER_ID_PATTERN, server_id) is None:
        raise ValueError(f"--server-id: {server_id!r} is not a server id ({SERVER_ID_PATTERN})")
    return server_id


def choose_server(sources: list[ServerSource], given: str | None) -> ServerSource:
    """The source whose id is ``given``, or the only one when none is given; else
    ValueError listing the ids there are."""
    known = [source.server_id for source in sources]
    if given is None and len(known) == 1:
        return sources[0]
    chosen = [source for source in sources if source.server_id == given]
    if not chosen:
        need = "is needed" if given is None else f"{given!r} is not in the config"
        listed = ", ".join(known) or "no [[servers]]"
        raise ValueError(f"--server-id {need} ({listed})")
    return chosen[0]
