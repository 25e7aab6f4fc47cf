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
TAIL_FAILED = "tail.failed"  # the tailer ended with an error: the daemon stops
# bad bytes and odd files (issue 10 item 8, issue 11)
FILE_CUT_SHORT = "file.cut_short"  # a .gz ends mid-stream: its readable part was read
FILE_EMPTY = "file.empty"  # a rolled file holds no bytes: nothing to read
FILE_DRAIN_FAILED = "file.drain_failed"  # reading a rotated live file to its end failed
FILE_READ = "file.read"  # debug: a file opened for reading, and each read (bytes, offsets)
# A glob's servers (agent/sources/tail/servers.py):
SERVER_FOUND = "server.found"  # a server matched a glob: followed from now on
SERVER_RELEASED = "server.released"  # its folder went away: files closed, checkpoints kept
SERVER_ID_CLASH = "server.id_clash"  # two matches, one id: the first seen wins
SERVER_ID_INVALID = "server.id_invalid"  # a filled id is not a valid server id: not followed

# -- state: the spool (agent/state) -------------------------------------------------------
SPOOL_FULL = "spool.full"  # the spool reached its cap: reading pauses (the log is the buffer)
SPOOL_ROOM = "spool.room"  # below the cap again: reading resumes
# a server's stored parse context (UUIDs, online players) is damaged: rebuilt from the logs
CONTEXT_UNREADABLE = "spool.context_unreadable"

# -- ship: the uploader (agent/ship) ------------------------------------------------------
SHIP_DEGRADED = "ship.degraded"  # requests keep failing and are retried (throttled warning)
SHIP_UNAUTHORIZED = "ship.unauthorized"  # sending paused: the token was refused
SHIP_QUOTA = "ship.quota_exceeded"  # sending paused: the account's quota is used up
SHIP_RESUMED = "ship.resumed"  # the probe after a pause was accepted: sending again
SHIP_DEAD_LETTERED = "ship.dead_lettered"  # the API rejected an entry for good
SHIP_STOPPED = "ship.stopped"  # the uploader stopped (what is left stays spooled)
SHIP_FAILED = "ship.failed"  # the uploader ended with an error: the daemon stops
TOKEN_RELOAD_FAILED = "token.reload_failed"  # a re-read of the token failed: old one kept
# networks (agent/ship/proxy.py): which proxy carries requests, said once per transport
SHIP_PROXY = "ship.proxy"
# field hardening (issue 10): containment, pacing, config pause, recovery
SHIP_UNEXPECTED = "ship.unexpected_error"  # a bug or library surprise: contained and retried
SHIP_SLOW_API = "ship.slow_api"  # answers later than api.timeout_seconds: timeout widened
SHIP_PACING = "ship.pacing"  # (debug) the adaptive timeout or concurrency changed
SHIP_MISCONFIGURED = "ship.misconfigured"  # POST {url}/logs answered 404/405: paused
SHIP_RECOVERED = "ship.recovered"  # the first success after failures: outage length, backlog
SHIP_REQUEST = "ship.request"  # (debug) one request: event_id, status, latency
SHIP_BATCH = "ship.batch"  # (debug) the feeder took a batch from the spool

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

# -- issue 10: the state dir's lock, dead letters, debug lines ---------------------------
SPOOL_CHECKPOINT = "spool.checkpoint"  # debug: a checkpoint committed with its entries
STATE_LOCK_WAIT = "state.lock_wait"  # another process holds the state dir: waiting for it
DEADLETTER_REPLAYED = "deadletter.replayed"  # dead letters put back in the spool
