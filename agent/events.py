"""Every event name the agent logs, in one place (STYLE.md habit 9).

Each log message starts with one of these names followed by ``": "``; agent/app/logsetup.py
turns it into the ``event`` field of JSON logs, so operators can grep and alert on them.
Grouped by the stage that logs them.
"""

# -- sources: following files (agent/sources/tail) ----------------------------------------
FILE_OPENED = "file.opened"  # started following a file (path, offset, why)
FILE_ROTATED = "file.rotated"  # the followed path now names another file; old one finished
FILE_TRUNCATED = "file.truncated"  # the file shrank or its head changed: restart at offset 0
FILE_MISSING = "file.missing"  # the followed path does not exist (yet): waiting for it
FILE_UNREADABLE = "file.unreadable"  # the path exists but cannot be opened or read
FILE_FOUND = "file.found"  # a missing or unreadable path became readable
FILE_RESUMED = "file.resumed"  # a saved checkpoint was found in a rotated file at start
FILE_LOST = "file.lost"  # a checkpointed file is gone: its unread rest cannot be read
FILE_CATCHUP = "file.catchup"  # reading rotated files the agent missed while stopped
WATCH_FAILED = "watch.failed"  # inotify watch not possible: polling only for that directory
TAIL_FAILED = "tail.failed"  # the tailer thread ended with an error: the daemon stops
# A glob's servers (agent/sources/tail/servers.py):
SERVER_FOUND = "server.found"  # a server matched a glob: followed from now on
SERVER_RELEASED = "server.released"  # its folder went away: files closed, checkpoints kept
SERVER_ID_CLASH = "server.id_clash"  # two matches, one id: the first seen wins
SERVER_ID_INVALID = "server.id_invalid"  # a filled id is not a valid server id: not followed

# -- state: the spool (agent/state) -------------------------------------------------------
SPOOL_FULL = "spool.full"  # the spool reached its cap: reading pauses (the log is the buffer)
SPOOL_ROOM = "spool.room"  # below the cap again: reading resumes

# -- ship: the uploader (agent/ship) ------------------------------------------------------
SHIP_DEGRADED = "ship.degraded"  # requests keep failing and are retried (throttled warning)
SHIP_UNAUTHORIZED = "ship.unauthorized"  # sending paused: the token was refused
SHIP_QUOTA = "ship.quota_exceeded"  # sending paused: the account's quota is used up
SHIP_RESUMED = "ship.resumed"  # the probe after a pause was accepted: sending again
SHIP_DEAD_LETTERED = "ship.dead_lettered"  # the API rejected an entry for good
SHIP_STOPPED = "ship.stopped"  # the uploader stopped (what is left stays spooled)
SHIP_FAILED = "ship.failed"  # the uploader ended with an error: the daemon stops
TOKEN_RELOAD_FAILED = "token.reload_failed"  # a re-read of the token failed: old one kept

# -- app: the daemon's life (agent/app) ---------------------------------------------------
AGENT_STARTED = "agent.started"
AGENT_STOPPING = "agent.stopping"
AGENT_STOPPED = "agent.stopped"
CONFIG_RELOADED = "config.reloaded"  # SIGHUP applied
CONFIG_RELOAD_FAILED = "config.reload_failed"  # SIGHUP with a bad config: old one kept
CONFIG_RESTART_NEEDED = "config.restart_needed"  # a changed section only applies on restart
STATUS_PUBLISH_FAILED = "status.publish_failed"  # the heartbeat for `status` was not written
SYSTEMD_NOTIFY_FAILED = "systemd.notify_failed"  # sd_notify could not reach systemd

# -- backfill (agent/backfill) ------------------------------------------------------------
BACKFILL_PROGRESS = "backfill.progress"  # periodic progress line when not on a terminal
BACKFILL_FILE_FAILED = "backfill.file_failed"  # one file could not be read (others go on)
