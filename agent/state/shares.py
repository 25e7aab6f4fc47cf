"""Each server's share of the spool: what it holds, for backpressure and fair sending.

Many servers, one spamming: ``has_room(server_id)`` (agent/state/spool.py) is also True
while that server holds less than its share, ``max_bytes`` divided by the number of
servers with entries spooled (itself included). A spamming server fills the cap and then
only its share; the others keep reading up to theirs. So the spool can exceed
``max_bytes`` by the quiet servers' shares: less than ``max_bytes`` more in all.
:meth:`ServerShares.ready` gives the sending side the same turns (``Spool.take_fair``):
each server with records not taken yet gets its part of a batch, oldest first.

Kept in memory, per server with records: (bytes held, highest row id). Bounded by the
servers spooling; rebuilt from the database at open (:func:`schema.bytes_by_server`).
The caller (the spool) holds its lock around every call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from agent.state.schema import record_size


class ServerShares:
    """Bytes held and the highest id, per server with records in the spool."""

    def __init__(self, rows: Iterable[tuple[str, int, int]]) -> None:
        self._held: dict[str, list[int]] = {server: [size, top] for server, size, top in rows}

    def below_share(self, server_id: str, max_bytes: int) -> bool:
        """True while ``server_id`` holds less than its share of ``max_bytes``."""
        held = self._held.get(server_id)
        servers = len(self._held) + (held is None)
        return held is None or held[0] < max_bytes // servers

    def appended(self, rows: Sequence[tuple[str, str, bytes]], last_id: int) -> dict[str, int]:
        """Count rows appended by one executemany (ids run up to ``last_id``); returns the
        number appended per server."""
        first_id = last_id - len(rows) + 1
        counts: dict[str, int] = {}
        for offset, row in enumerate(rows):
            held = self._held.setdefault(row[1], [0, 0])
            held[0] += record_size(*row)
            held[1] = first_id + offset
            counts[row[1]] = counts.get(row[1], 0) + 1
        return counts

    def removed(self, removed: Iterable[tuple[str, int]]) -> None:
        """Count records removed: (server_id, size) each."""
        for server_id, size in removed:
            held = self._held.get(server_id)
            if held is not None:
                held[0] -= size
                if held[0] <= 0:
                    del self._held[server_id]

    def ready(self, cursors: dict[str, int]) -> list[tuple[int, str]]:
        """(cursor, server) of each server with records after its cursor, oldest first;
        servers with nothing spooled are dropped from ``cursors`` (it stays bounded)."""
        for server in [s for s in cursors if s not in self._held]:
            del cursors[server]
        return sorted(
            (cursors.get(s, 0), s) for s, (_, top) in self._held.items() if top > cursors.get(s, 0)
        )
