"""Event names of the tailer's log messages, defined in one place (STYLE.md habit 9).

Every message starts with one of these followed by ``": "`` (agent/logsetup.py turns it
into the ``event`` field of JSON logs), so operators can grep and alert on them.
"""

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
