"""Stage 3, state: what the agent keeps on disk between reading and sending.

Modules: ``spool`` (SQLite: entries and source checkpoints in one transaction, the byte cap,
the heartbeat ``status`` reads), ``schema`` (the database's tables, version and the queries
the spool and its reader share), ``spool_reader`` (the read-only view ``status`` uses while the
daemon runs), ``deadletter`` (entries the API refused for good), ``sinks`` (encode + spool
with the checkpoint + wait for room, for the tailer and backfill; and the printing sink),
``statedir`` (the one function that creates the state directory, and what a failed write
means), ``lock`` (one process per state dir: the flock ``run``, ``backfill`` and
``deadletter replay`` hold and ``status`` probes).

May import: agent.encode, agent.parse and below. Not agent.sources or agent.ship.
"""
