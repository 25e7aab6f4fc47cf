"""Saving a checkpoint does not scan the checkpoints table (agent/state/schema.py): the
MAX(updated) that orders them is read from an index, in new and existing spools alike."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from agent.model import Checkpoint
from agent.state.spool import Spool, SpoolOptions

_MAX_UPDATED = "SELECT COALESCE(MAX(updated), 0) + 1 FROM checkpoints"


def plan(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return " ".join(row[-1] for row in db.execute(f"EXPLAIN QUERY PLAN {_MAX_UPDATED}"))
    finally:
        db.close()


def test_max_updated_is_read_from_an_index(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    spool = Spool(SpoolOptions(path))
    for n in range(50):
        spool.save_checkpoint(Checkpoint(f"s{n % 5}", f"fp{n}", n))
    latest = spool.checkpoint("s4")
    spool.close()
    assert latest == Checkpoint("s4", "fp49", 49)
    assert "checkpoints_by_updated" in plan(path)


def test_an_existing_spool_gets_the_index_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    Spool(SpoolOptions(path)).close()
    db = sqlite3.connect(path)
    db.execute("DROP INDEX checkpoints_by_updated")  # as a spool made before the index
    db.commit()
    db.close()
    assert "checkpoints_by_updated" not in plan(path)
    Spool(SpoolOptions(path)).close()
    assert "checkpoints_by_updated" in plan(path)
