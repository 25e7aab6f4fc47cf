"""Fakes for tests and benchmarks (STYLE.md habit 7: seams and fakes, not patching).

* :class:`FakeTransport` answers from a handler function instead of the network.
* :func:`make_records` builds realistic spool records (the shape agent/encode/body.py produces).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Iterator

import orjson
from pydantic import SecretStr

from agent.ship.transport import Answer
from agent.state.spool import Record

Handler = Callable[[bytes, str], Answer | Awaitable[Answer]]

_MESSAGES = (
    "Steve joined the game",
    "<Alex> anyone up for the nether?",
    "Steve was slain by Zombie",
    "Can't keep up! Is the server overloaded? Running 2043ms or 40 ticks behind",
    "Saving the game (this may take a moment!)",
)


def accepted(body: bytes = b'{"id":"1"}') -> Answer:
    """A 201 answer."""
    return Answer(201, None, body)


def api_error(status: int, code: str, message: str = "", retry_after: str | None = None) -> Answer:
    """An answer with the API's error body."""
    body = orjson.dumps({"error": {"code": code, "message": message or code}})
    return Answer(status, retry_after, body)


class FakeTransport:
    """A Transport whose answers come from ``handler(body, idempotency_key)``.

    Records every call (key and the token in use) so tests can assert on them.
    """

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self.calls: list[str] = []
        self.tokens: list[str] = []
        self._token = ""
        self.closed = False

    def set_token(self, token: SecretStr) -> None:
        """Remember the token for later requests."""
        self._token = token.get_secret_value()

    async def post(self, body: bytes, idempotency_key: str) -> Answer:
        """Answer from the handler (awaiting it if it is a coroutine)."""
        self.calls.append(idempotency_key)
        self.tokens.append(self._token)
        answer = self._handler(body, idempotency_key)
        if asyncio.iscoroutine(answer) or isinstance(answer, Awaitable):
            answer = await answer
        return answer  # type: ignore[return-value]

    async def aclose(self) -> None:
        """Mark closed."""
        self.closed = True


def event_id(server_id: str, fingerprint: str, offset: int) -> str:
    """A stable id like the real one: a hash of server, file and offset."""
    raw = f"{server_id}\0{fingerprint}\0{offset}".encode()
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def make_body(event: str, server_id: str, n: int) -> bytes:
    """A realistic POST /logs body for entry number ``n``."""
    message = _MESSAGES[n % len(_MESSAGES)]
    doc = {
        "level": "warn" if "overloaded" in message else "info",
        "message": message,
        "meta": {
            "server_id": server_id,
            "tags": ["timestamp", "chat" if message.startswith("<") else "server"],
            "timestamp": f"2026-11-21T18:{(n // 60) % 60:02d}:{n % 60:02d}Z",
            "log_level": "INFO",
            "thread": "Server thread",
            "username": "Steve",
            "event_id": event,
        },
    }
    return orjson.dumps(doc)


def make_records(
    count: int, *, server_id: str = "main-1", fingerprint: str = "f" * 16, start: int = 0
) -> Iterator[Record]:
    """``count`` records numbered from ``start``; offsets are the entry numbers."""
    for n in range(start, start + count):
        eid = event_id(server_id, fingerprint, n)
        yield Record(eid, server_id, make_body(eid, server_id, n))
