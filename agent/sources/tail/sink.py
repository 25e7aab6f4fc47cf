"""Where the tailer hands entries: the :class:`Sink` and :class:`CheckpointStore` seams.

The tailer never advances a checkpoint by itself (shared/DESIGN.md, invariant 2). It
calls ``sink.deliver(entries, checkpoint)`` where ``checkpoint`` is the end of the last
entry in ``entries``; the spool stores both in one transaction. Backpressure: while
``has_room()`` is False the tailer stops reading (the log file is the buffer) and waits in
``wait_for_room``. :class:`agent.state.spool.Spool` already has ``has_room``, ``wait_for_room``
and both checkpoint look-ups, so a spool-backed sink only adds entry encoding.

The server's parse context (:class:`agent.parse.reader.ServerContext`, e.g. the players'
UUIDs) travels the same way: ``deliver(entries, checkpoint, context)`` with ``context`` the
JSON-able snapshot at ``checkpoint`` when it changed since the last delivery (None: as
last delivered), committed with the checkpoint; ``store.server_context(server_id)`` gives
back the one of the latest checkpoint when the follower (re)starts.

* The dry-run sink, which prints the API bodies and commits nothing, is
  :class:`agent.state.sinks.PrintSink` (it shares the filter and encoder of the spool sink).
* :class:`MemoryCheckpointStore` and :class:`MemorySink` keep everything in memory, for
  tests and benchmarks: the sink "commits" each checkpoint to the store with its entries,
  the way the spool does.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from agent.model import Checkpoint, Entry


class Sink(Protocol):
    """Receives entries together with the checkpoint they complete."""

    def deliver(
        self,
        entries: Sequence[Entry],
        checkpoint: Checkpoint,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        """Take ``entries`` and commit ``checkpoint`` with them (atomically, if it commits),
        and ``context``, the server's parse context at ``checkpoint``, if not None."""
        ...

    def batched(self) -> contextlib.AbstractContextManager[None]:
        """Deliveries inside commit together when it exits (one transaction per tailer
        pass, across servers); a sink that commits nothing gives a null context."""
        ...

    def has_room(self, server_id: str | None = None) -> bool:
        """False while the sink is full (for ``server_id``): the tailer must not read more."""
        ...

    def wait_for_room(self, timeout: float | None = None) -> bool:
        """Block until there is room or ``timeout`` passed; return :meth:`has_room`."""
        ...


class CheckpointStore(Protocol):
    """Saved checkpoints, looked up when a server's stream is (re)opened."""

    def checkpoint(self, server_id: str) -> Checkpoint | None:
        """The most recently saved checkpoint of a server (the file it read last)."""
        ...

    def checkpoint_for(self, server_id: str, fingerprint: str) -> Checkpoint | None:
        """The saved checkpoint of one file of a server, by fingerprint."""
        ...

    def server_context(self, server_id: str) -> dict[str, Any] | None:
        """The parse context saved with the server's latest checkpoint, if any."""
        ...


class MemoryCheckpointStore:
    """Checkpoints in a dict, keyed like the spool's table: (server_id, fingerprint)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._saved: dict[tuple[str, str], int] = {}
        self._latest: dict[str, str] = {}
        self._contexts: dict[str, str] = {}  # JSON, as the spool keeps it

    def save(self, checkpoint: Checkpoint, context: Mapping[str, Any] | None = None) -> None:
        """Store a checkpoint (and the context at it); it becomes the server's most recent."""
        text = None if context is None else json.dumps(context)
        with self._lock:
            if checkpoint.replaces is not None:
                self._saved.pop((checkpoint.server_id, checkpoint.replaces), None)
            self._saved[(checkpoint.server_id, checkpoint.fingerprint)] = checkpoint.offset
            self._latest[checkpoint.server_id] = checkpoint.fingerprint
            if text is not None:
                self._contexts[checkpoint.server_id] = text

    def server_context(self, server_id: str) -> dict[str, Any] | None:
        """The context saved with the server's latest checkpoint (a copy), if any."""
        with self._lock:
            text = self._contexts.get(server_id)
        return None if text is None else json.loads(text)

    def checkpoint(self, server_id: str) -> Checkpoint | None:
        """The most recently saved checkpoint of a server."""
        with self._lock:
            fingerprint = self._latest.get(server_id)
            if fingerprint is None:
                return None
            return Checkpoint(server_id, fingerprint, self._saved[(server_id, fingerprint)])

    def checkpoint_for(self, server_id: str, fingerprint: str) -> Checkpoint | None:
        """The saved checkpoint of one file, by fingerprint."""
        with self._lock:
            offset = self._saved.get((server_id, fingerprint))
        return None if offset is None else Checkpoint(server_id, fingerprint, offset)


class MemorySink:
    """Keeps delivered entries in a list and commits checkpoints to a MemoryCheckpointStore.

    ``on_deliver`` (optional) is called after each delivery, where the tailer runs;
    tests use it to wait for a condition without sleeping. ``room`` can be cleared to
    simulate a full spool.
    """

    def __init__(
        self,
        store: MemoryCheckpointStore | None = None,
        on_deliver: Callable[[Sequence[Entry], Checkpoint], None] | None = None,
    ) -> None:
        self.store = store if store is not None else MemoryCheckpointStore()
        self.entries: list[Entry] = []
        self.checkpoints: list[Checkpoint] = []
        self.contexts: list[Mapping[str, Any] | None] = []  # per delivery, as given
        self.room = threading.Event()
        self.room.set()
        self.changed = threading.Condition()
        self._on_deliver = on_deliver

    def batched(self) -> contextlib.AbstractContextManager[None]:
        """Each delivery commits at once (nothing to group)."""
        return contextlib.nullcontext()

    def deliver(
        self,
        entries: Sequence[Entry],
        checkpoint: Checkpoint,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        """Append the entries and commit the checkpoint (and context), then notify waiters."""
        with self.changed:
            self.entries.extend(entries)
            self.checkpoints.append(checkpoint)
            self.contexts.append(context)
            self.store.save(checkpoint, context)
            self.changed.notify_all()
        if self._on_deliver is not None:
            self._on_deliver(entries, checkpoint)

    def has_room(self, server_id: str | None = None) -> bool:
        """True unless a test cleared ``room``."""
        return self.room.is_set()

    def wait_for_room(self, timeout: float | None = None) -> bool:
        """Wait until ``room`` is set again (or timeout)."""
        return self.room.wait(timeout)

    def wait_until(self, predicate: Callable[[list[Entry]], bool], timeout: float) -> bool:
        """Block until ``predicate(self.entries)`` holds or ``timeout`` seconds passed."""
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self.entries), timeout)
