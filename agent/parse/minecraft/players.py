"""Who is online on one server: the roster that logins and logouts keep. Pure, in memory.

The roster decides what a line cannot say alone: ``[Steve] hi`` is /say chat only when
Steve is online, ``[Member] Steve: hi`` on a console without threads is chat only when
Steve is online, a pre-1.7 ``Steve left the game`` ends a session only when no ``lost
connection`` line did, and a logout carries ``session_seconds`` when its login was seen.

Persistence (another module's job) goes through :meth:`Roster.snapshot` and
:meth:`Roster.restore`: a JSON-able dict ``{"version": 1, "online": {name: login}}``
where ``login`` is the login's UTC time in POSIX seconds, or null when the line had no
date, plus ``"present": [name]``: players seen online (a command, a chat line) whose
login was not seen. A server start clears the roster (a restart logs everybody out).

Bounded: at most ``max_online`` players (the longest online are forgotten first, as a
player whose logout was never seen is the likeliest stale entry), and a few pending
proxy handshakes.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from typing import Any

DEFAULT_MAX_ONLINE = 2_000
SNAPSHOT_VERSION = 1
_MAX_HANDSHAKES = 16  # nameless proxy handshakes waiting for the line that names a player
_MAX_LEFT = 64
_MAX_PLUGINS = 1_000  # players whose session a "left the game" line ended (see ``left``)


class Roster:
    """The online players of one server, each with the time of their login."""

    __slots__ = (
        "_addresses",
        "_ended_by_left",
        "_handshakes",
        "_online",
        "_present",
        "changes",
        "max_online",
        "plugins",
    )  # fmt: skip

    def __init__(self, max_online: int = DEFAULT_MAX_ONLINE) -> None:
        self.max_online = max_online
        self.changes = 0  # moves with every change of what snapshot() holds (saved when it moved)
        self._online: OrderedDict[str, float | None] = OrderedDict()
        # Players known to be online from a command, chat or death line, login unseen.
        self._present: OrderedDict[str, None] = OrderedDict()
        self._handshakes: deque[dict[str, Any]] = deque(maxlen=_MAX_HANDSHAKES)
        self._ended_by_left: OrderedDict[str, None] = OrderedDict()
        self._addresses: OrderedDict[str, dict[str, Any]] = OrderedDict()
        # Names the server announced as plugins ("Enabling X v1.0"): "[X] Steve: ..." is
        # the plugin speaking, not chat. Kept across restarts of the server, bounded.
        self.plugins: set[str] = set()

    def learn_plugin(self, name: str) -> None:
        """``name`` is a plugin of this server (at most ``_MAX_PLUGINS`` are kept)."""
        if len(self.plugins) < _MAX_PLUGINS:
            self.plugins.add(name)

    def __len__(self) -> int:
        return len(self._online) + len(self._present)

    def __contains__(self, name: object) -> bool:
        return name in self._online or name in self._present

    @property
    def online(self) -> list[str]:
        """Names online now: logged in (in login order), then those only seen."""
        return [*self._online, *self._present]

    def login(self, name: str, when: float | None) -> None:
        """``name`` logged in at ``when`` (POSIX seconds, None: unknown)."""
        self.changes += 1
        online = self._online
        online.pop(name, None)
        self._present.pop(name, None)
        online[name] = when
        self._ended_by_left.pop(name, None)
        if len(online) > self.max_online:
            online.popitem(last=False)

    def seen(self, name: str) -> None:
        """``name`` is online (a command, chat or death of theirs) though no login was seen."""
        if name in self._online or name in self._present:
            return
        self.changes += 1
        present = self._present
        present[name] = None
        if len(present) > self.max_online:
            present.popitem(last=False)

    def logout(self, name: str, when: float | None) -> int | None:
        """``name`` logged out; the session's length in whole seconds when it is known."""
        self.changes += 1
        self._present.pop(name, None)
        started = self._online.pop(name, None)
        if started is None or when is None or when < started:
            return None  # login unseen, undated, or the clock went back (appended logs)
        return int(when - started)

    def left(self, name: str) -> bool:
        """A ``left the game`` line; True when it ends a session whose login line was seen
        and no logout line ended.

        The player stays marked so that a ``lost connection`` printed after it (some
        servers print both, in either order) is not a second logout: see ``ended_by_left``.
        """
        if name not in self._online:
            return False
        self.changes += 1
        marks = self._ended_by_left
        marks[name] = None
        if len(marks) > _MAX_LEFT:
            marks.popitem(last=False)
        return True

    def ended_by_left(self, name: str) -> bool:
        """True (once) when ``name``'s session was already ended by ``left the game``."""
        return self._ended_by_left.pop(name, 0) is None

    def clear(self) -> None:
        """A server (re)start: nobody is online, no handshake is pending."""
        if self._online or self._present or self._ended_by_left:
            self.changes += 1
        self._online.clear()
        self._present.clear()
        self._handshakes.clear()
        self._ended_by_left.clear()
        self._addresses.clear()

    def handshake(self, address: dict[str, Any]) -> None:
        """A proxy connection with an address but no name yet (``ip``/``port`` fields)."""
        self._handshakes.append(address)

    def remember_address(self, name: str, address: dict[str, Any]) -> None:
        """A pre-login line that gives both the name and the address."""
        addresses = self._addresses
        addresses[name] = address
        if len(addresses) > _MAX_HANDSHAKES:
            addresses.popitem(last=False)

    def take_address(self, name: str) -> dict[str, Any]:
        """The address of ``name``'s connection: its own pre-login line, else the latest
        nameless handshake (the one just before the line naming the player); {} if none."""
        address = self._addresses.pop(name, None)
        if address is not None:
            return address
        if self._handshakes:
            address = self._handshakes.pop()
            self._handshakes.clear()  # older ones were pings that never logged in
            return address
        return {}

    def snapshot(self) -> dict[str, Any]:
        """The roster as JSON-able data, for :meth:`restore` after a restart."""
        return {
            "version": SNAPSHOT_VERSION,
            "online": dict(self._online),
            "present": list(self._present),
        }

    def restore(self, data: dict[str, Any]) -> int:
        """Replace the roster with a :meth:`snapshot`; returns how many entries were skipped.

        Never raises on bad data: an unknown version or shape restores nobody (every
        entry counts as skipped), a bad entry is skipped alone.
        """
        self.clear()
        online = data.get("online") if isinstance(data, dict) else None
        if not isinstance(data, dict) or data.get("version") != SNAPSHOT_VERSION:
            return len(online) if isinstance(online, dict) else 1
        if not isinstance(online, dict):
            return 1
        skipped = 0
        for name, when in online.items():
            if not isinstance(name, str) or not name or not _is_time(when):
                skipped += 1
                continue
            self.login(name, None if when is None else float(when))
        present = data.get("present", [])
        for name in present if isinstance(present, list) else [present]:
            if isinstance(name, str) and name:
                self.seen(name)
            else:
                skipped += 1
        return skipped


def _is_time(value: object) -> bool:
    if value is None:
        return True
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
