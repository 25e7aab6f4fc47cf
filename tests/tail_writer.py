"""A log4j2-like writer for tail tests and benchmarks: real 1.7+ lines with a counter.

:class:`Log4jWriter` writes ``logs/latest.log`` one ``write`` per line (log4j2's
``immediateFlush``) and rotates the way Minecraft's log4j2 config does: close, rename
``latest.log`` to ``YYYY-MM-DD-N.log``, open a new ``latest.log`` (writing goes on), and
in a background thread gzip the rolled file to ``.log.gz`` and delete the plain one.
:class:`JulWriter` does BungeeCord's ``proxy.log.0`` size roll (``.1`` -> ``.2``,
``.0`` -> ``.1``, new ``.0``). ``counter_of`` reads the counter back from an entry line.
"""

from __future__ import annotations

import gzip
import re
import shutil
import threading
from pathlib import Path

_COUNTER = re.compile(r"message (\d+)")


def mc_line(n: int) -> bytes:
    """A 1.7+ chat line carrying counter ``n``."""
    hh, mm, ss = (n // 3600) % 24, (n // 60) % 60, n % 60
    return f"[{hh:02}:{mm:02}:{ss:02}] [Server thread/INFO]: <Steve> message {n}\n".encode()


def pre17_line(n: int) -> bytes:
    """A pre-1.7 ``server.log`` line carrying counter ``n``."""
    return f"2013-04-19 10:{(n // 60) % 60:02}:{n % 60:02} [INFO] <Steve> message {n}\n".encode()


def bungee_line(n: int) -> bytes:
    """A BungeeCord ``proxy.log.0`` line carrying counter ``n``."""
    return (
        f"10:{(n // 60) % 60:02}:{n % 60:02} [INFO] Steve disconnected with: message {n}\n".encode()
    )


def counter_of(line: str) -> int:
    """The counter in a line written by these writers."""
    match = _COUNTER.search(line)
    assert match is not None, line
    return int(match[1])


def startup_lines(seed: int) -> bytes:
    """The first lines of a server start (differ by ``seed``, like timings do)."""
    return (
        "[04:00:00] [main/INFO]: Environment: Environment[sessionHost=https://sessionserver"
        ".mojang.com, servicesHost=https://api.minecraftservices.com, name=PROD]\n"
        f"[04:00:01] [Server thread/INFO]: Starting minecraft server version 1.21.{seed}\n"
    ).encode()


class Log4jWriter:
    """Writes ``latest.log`` in ``logs`` and rotates it like Minecraft's log4j2."""

    def __init__(self, logs: Path, day: str = "2026-11-21", *, gzip_async: bool = True) -> None:
        logs.mkdir(parents=True, exist_ok=True)
        self.logs = logs
        self.latest = logs / "latest.log"
        self.day = day
        self.next_n = 0
        self.gzip_async = gzip_async
        self._compressors: list[threading.Thread] = []
        self._file = self.latest.open("ab", buffering=0)

    def write(self, data: bytes) -> None:
        """Append raw bytes (one write call)."""
        self._file.write(data)

    def lines(self, start: int, count: int) -> int:
        """Write lines ``start .. start+count-1``, one write each; return the next counter."""
        for n in range(start, start + count):
            self._file.write(mc_line(n))
        return start + count

    def rotate(self) -> Path:
        """Roll like log4j2: rename, new latest.log, then gzip + delete in the background."""
        self._file.close()
        rolled = self._next_name()
        self.latest.rename(rolled)
        self._file = self.latest.open("ab", buffering=0)
        if self.gzip_async:
            worker = threading.Thread(target=_gzip_and_delete, args=(rolled,))
            worker.start()
            self._compressors.append(worker)
        else:
            _gzip_and_delete(rolled)
        return rolled.with_name(rolled.name + ".gz")

    def _next_name(self) -> Path:
        while True:
            self.next_n += 1
            candidate = self.logs / f"{self.day}-{self.next_n}.log"
            if not candidate.exists() and not candidate.with_name(candidate.name + ".gz").exists():
                return candidate

    def close(self) -> None:
        """Close latest.log and wait for background compressions."""
        self._file.close()
        for worker in self._compressors:
            worker.join(timeout=30)


def _gzip_and_delete(rolled: Path) -> None:
    target = rolled.with_name(rolled.name + ".gz")
    with rolled.open("rb") as source, gzip.open(target, "wb") as sink:
        shutil.copyfileobj(source, sink)
    rolled.unlink()


class JulWriter:
    """Writes BungeeCord's ``proxy.log.0`` and rolls it like java.util.logging.FileHandler."""

    def __init__(self, logs: Path, count: int = 8) -> None:
        logs.mkdir(parents=True, exist_ok=True)
        self.current = logs / "proxy.log.0"
        self.count = count
        self._file = self.current.open("ab", buffering=0)

    def lines(self, start: int, count: int) -> int:
        """Write BungeeCord lines ``start .. start+count-1``; return the next counter."""
        for n in range(start, start + count):
            self._file.write(bungee_line(n))
        return start + count

    def rotate(self) -> None:
        """Close, shift ``.i`` to ``.i+1`` (oldest dropped), ``.0`` to ``.1``, new ``.0``."""
        self._file.close()
        logs = self.current.parent
        for index in range(self.count - 2, -1, -1):
            older = logs / f"proxy.log.{index}"
            if older.exists():
                older.rename(logs / f"proxy.log.{index + 1}")
        self._file = self.current.open("ab", buffering=0)

    def close(self) -> None:
        """Close the current file."""
        self._file.close()
