"""systemd's notify protocol (sd_notify): READY=1, STOPPING=1, WATCHDOG=1, STATUS=...

A datagram to the unix socket named by ``$NOTIFY_SOCKET`` (``@name`` is the abstract
namespace). Outside systemd the variable is absent and every call does nothing, so the
daemon code calls it unconditionally. Failures to notify are logged once, never raised:
the agent keeps shipping even if systemd cannot be told.
"""

from __future__ import annotations

import logging
import os
import socket

from agent import events

log = logging.getLogger(__name__)


class Notifier:
    """Sends state changes to systemd when run as a ``Type=notify`` service."""

    def __init__(self, socket_path: str | None = None) -> None:
        path = socket_path if socket_path is not None else os.environ.get("NOTIFY_SOCKET", "")
        self._address = "\0" + path[1:] if path.startswith("@") else path
        self._warned = False

    @property
    def enabled(self) -> bool:
        """True when systemd gave a socket to notify."""
        return bool(self._address)

    def ready(self, status: str = "") -> None:
        """The service finished starting (systemd then considers it active)."""
        self._send("READY=1", f"STATUS={status}")

    def stopping(self, status: str = "") -> None:
        """Shutdown began."""
        self._send("STOPPING=1", f"STATUS={status}")

    def reloading(self, status: str = "") -> None:
        """Reloading the configuration (SIGHUP); call ready() when done."""
        self._send("RELOADING=1", f"STATUS={status}")

    def watchdog(self) -> None:
        """The main loop is alive (sent at least every WatchdogSec/2)."""
        self._send("WATCHDOG=1")

    def status(self, text: str) -> None:
        """A one-line status shown by ``systemctl status``."""
        self._send(f"STATUS={text}")

    def _send(self, *fields: str) -> None:
        if not self._address:
            return
        message = "\n".join(field for field in fields if field and field != "STATUS=").encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.connect(self._address)
                sock.sendall(message)
        except OSError as exc:
            if not self._warned:
                log.warning("%s: cannot notify systemd: %s", events.SYSTEMD_NOTIFY_FAILED, exc)
                self._warned = True


def watchdog_interval_seconds() -> float | None:
    """Half of systemd's WatchdogSec (``$WATCHDOG_USEC``) if it is meant for us, else None."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return max(int(usec) / 2_000_000, 0.5)
    except ValueError:
        return None
