"""``serverops-agent backfill``: old log files in, once, oldest first, resumably.

files.py (which files, in which order), reading.py (one file: identity, resume offset,
entries with checkpoints), dryrun.py (JSON lines, process pool), ship.py (spool +
uploader), encode.py (the daemon's EntryEncoder settings), summary.py, progress.py.
The command itself is agent/cli_backfill.py.
"""
