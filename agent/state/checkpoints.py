"""The checkpoints table: where each server's files were read up to (SQL only).

A checkpoint is written only inside the transaction that appends the entries it completes
(:meth:`agent.state.spool.Spool.append`, shared/DESIGN.md invariant 2); these functions
take the open connection and never commit. The server's most recent checkpoint (its
resume point) is the row with the highest ``updated``.
"""

from __future__ import annotations

import sqlite3

from agent.model import Checkpoint


def save(db: sqlite3.Connection, checkpoint: Checkpoint, *, as_latest: bool = True) -> None:
    """Upsert ``checkpoint``, dropping the row it replaces (a narrower fingerprint of the
    same file); ``as_latest=False`` (backfill of old files) keeps it from becoming the
    server's most recent one."""
    if checkpoint.replaces is not None:
        _forget(db, checkpoint.server_id, checkpoint.replaces)
    if not as_latest:
        # A new row sorts before every other; an existing row keeps its place.
        db.execute(
            "INSERT INTO checkpoints (server_id, fingerprint, offset, updated)"
            " VALUES (?, ?, ?, (SELECT COALESCE(MIN(updated), 0) - 1 FROM checkpoints))"
            " ON CONFLICT (server_id, fingerprint) DO UPDATE SET offset = excluded.offset",
            (checkpoint.server_id, checkpoint.fingerprint, checkpoint.offset),
        )
        return
    db.execute(
        "INSERT INTO checkpoints (server_id, fingerprint, offset, updated)"
        " VALUES (?, ?, ?, (SELECT COALESCE(MAX(updated), 0) + 1 FROM checkpoints))"
        " ON CONFLICT (server_id, fingerprint) DO UPDATE"
        " SET offset = excluded.offset, updated = excluded.updated",
        (checkpoint.server_id, checkpoint.fingerprint, checkpoint.offset),
    )


def _forget(db: sqlite3.Connection, server_id: str, fingerprint: str) -> None:
    """Drop the row of a fingerprint a wider one of the same file replaced."""
    db.execute(
        "DELETE FROM checkpoints WHERE server_id = ? AND fingerprint = ?", (server_id, fingerprint)
    )


def for_file(db: sqlite3.Connection, server_id: str, fingerprint: str) -> Checkpoint | None:
    """The stored checkpoint of one file of a server, known by its fingerprint."""
    row = db.execute(
        "SELECT offset FROM checkpoints WHERE server_id = ? AND fingerprint = ?",
        (server_id, fingerprint),
    ).fetchone()
    return Checkpoint(server_id, fingerprint, row[0]) if row else None


def of_server(db: sqlite3.Connection, server_id: str) -> list[Checkpoint]:
    """Every stored checkpoint of a server."""
    rows = db.execute(
        "SELECT fingerprint, offset FROM checkpoints WHERE server_id = ?", (server_id,)
    ).fetchall()
    return [Checkpoint(server_id, row[0], row[1]) for row in rows]
