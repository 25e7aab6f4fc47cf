"""``serverops-agent backfill``: old log files in, once, oldest first, resumably.

Orchestration only, built from agent.sources (reading files), agent.state (the spool and
its checkpoints) and agent.ship (the uploader): files.py (which files, in which order),
reading.py (one file: identity, resume offset, entries with checkpoints), dryrun.py (JSON
lines, process pool), ship.py (spool + uploader), encode.py (the daemon's EntryEncoder
settings), summary.py, progress.py. The command itself is agent/cli/backfill.py.

May import: agent.ship, agent.sources, agent.state and below. Not agent.app or agent.cli.
"""
