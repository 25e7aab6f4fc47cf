"""Follow mode: every server's log through rotation, truncation and agent restarts.

Modules: ``source`` (what to follow), ``discovery`` (a followed file's rolled files,
listed and opened), ``plan`` (where a saved checkpoint's file is now), ``catchup`` (reading
the rolled files missed), ``live`` (the open live file), ``follower`` (one server's state
machine over those), ``watcher`` (inotify wake-ups), ``tailer`` (the passes over servers,
and a thread to run them), ``loop`` (the passes run by an asyncio event loop: the
daemon's), ``sink`` (the seam entries and checkpoints are handed to).
"""

from agent.sources.tail.source import ReadFrom, ServerSource
from agent.sources.tail.tailer import Tailer, follow

__all__ = ["ReadFrom", "ServerSource", "Tailer", "follow"]
