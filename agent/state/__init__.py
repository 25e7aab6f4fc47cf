"""Stage 3, state: what the agent keeps on disk between reading and sending.

Modules: ``spool`` (SQLite: entries and source checkpoints in one transaction, the byte cap,
the heartbeat ``status`` reads), ``deadletter`` (entries the API refused for good),
``sinks`` (the spool-backed and the printing sink the tailer delivers to).

May import: agent.encode, agent.parse and below. Not agent.sources or agent.ship.
"""
