"""A local implementation of shared/API.md (POST /logs) with fault injection, for tests.

A minimal HTTP/1.1 keep-alive server on asyncio protocols (fast enough not to be the
bottleneck in bench/ship.py). It checks the token and the body as the API would, records
every accepted ``event_id`` (from ``Idempotency-Key``, checked against ``meta.event_id``),
and injects faults on demand: a rate of 500s or proxy HTML 502s, latency (the entry is stored
first, then answered late, as a slow API does: duplicates are timed in
``duplicate_times``), dropped connections, 429 with Retry-After, quota_exceeded, 401
until the token changes, 400 for poisoned entries, 404 for a wrong base path.

In a test: ``with Receiver(token=...) as rx: ... rx.url`` (runs in a thread). As a process
(for benchmarks): ``python tests/receiver.py --port 0`` prints the port; ``GET /stats``
answers the counters.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Self

import orjson

_REASONS = {
    200: b"OK",
    201: b"Created",
    400: b"Bad Request",
    401: b"Unauthorized",
    402: b"Payment Required",
    403: b"Forbidden",
    404: b"Not Found",
    405: b"Method Not Allowed",
    429: b"Too Many Requests",
    500: b"Internal Server Error",
    502: b"Bad Gateway",
}
_HTML_502 = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
_QUOTA = {
    "error": {
        "code": "quota_exceeded",
        "message": "tier quota exceeded for storage_bytes",
        "metric": "storage_bytes",
        "quotas": [
            {
                "metric": "storage_bytes",
                "used": 10737418240,
                "limit": 10737418240,
                "cumulative": True,
            }
        ],
    }
}


@dataclass
class Faults:
    """What the receiver does wrong; change the fields at any time from the test thread."""

    error_rate: float = 0.0  # fraction answered 500 {"error": {"code": "internal"}}
    html_502_rate: float = 0.0  # fraction answered with a proxy's HTML 502
    drop_rate: float = 0.0  # fraction whose connection is closed without an answer
    too_many_rate: float = 0.0  # fraction answered 429 with Retry-After
    retry_after: str = "1"
    latency: float = 0.0  # seconds before each answer
    quota_exceeded: bool = False
    forbidden: bool = False
    poisoned: set[str] = field(default_factory=set)  # event_ids answered 400 bad_request
    not_found: bool = False  # POST /logs answered 404, as a wrong base path would be
    seed: int = 1
    max_body_bytes: int = 0  # bodies larger than this are answered 413 (0: no limit)


class ReceiverState:
    """Counters and the accepted event_ids (read them from the test thread)."""

    def __init__(self, token: str, faults: Faults) -> None:
        self.token = token
        self.faults = faults
        self.random = random.Random(faults.seed)
        self.accepted: collections.Counter[str] = collections.Counter()
        self.accepted_total = 0
        self.requests = 0
        self.statuses: collections.Counter[int] = collections.Counter()
        self.auth_headers: set[str] = set()
        self.first_accepted_at: float | None = None
        self.last_accepted_at: float | None = None
        self.order: list[str] | None = None  # set to [] to record the arrival order
        self.duplicate_times: list[float] = []  # monotonic times an event_id was stored again
        self.bodies: list[dict[str, Any]] | None = None  # set to [] to keep accepted bodies
        self.by_server: collections.Counter[str] = collections.Counter()  # accepted, per server
        # Set to [] to keep (server_id, message, arrival time.time()) of each accepted entry.
        self.messages: list[tuple[str, str, float]] | None = None
        # False: the entry's key is meta.event_id, whatever Idempotency-Key says (only for
        # comparing with syslog-ng, whose http() headers are not templates in 3.38).
        self.require_key = True

    def answer(self, headers: dict[bytes, bytes], body: bytes) -> tuple[int, bytes, bytes] | None:
        """(status, extra header lines, body) for one POST /logs, or None to drop it."""
        self.requests += 1
        faults = self.faults
        rnd = self.random.random
        if faults.not_found:
            return _error(404, "not_found", "no such path")
        if faults.drop_rate and rnd() < faults.drop_rate:
            return None
        auth = headers.get(b"authorization", b"")
        if auth != b"Bearer " + self.token.encode():
            return _error(401, "unauthorized", "missing or invalid authorization token")
        if faults.forbidden:
            return _error(403, "forbidden", "token does not have the required scope")
        if faults.error_rate and rnd() < faults.error_rate:
            return _error(500, "internal", "an unexpected error occurred")
        if faults.html_502_rate and rnd() < faults.html_502_rate:
            return 502, b"Content-Type: text/html\r\n", _HTML_502
        if faults.too_many_rate and rnd() < faults.too_many_rate:
            extra = b"Retry-After: " + faults.retry_after.encode() + b"\r\n"
            status, _, payload = _error(429, "rate_limited", "slow down")
            return status, extra, payload
        if faults.quota_exceeded:
            return (
                402,
                b"Retry-After: " + faults.retry_after.encode() + b"\r\n",
                orjson.dumps(_QUOTA),
            )
        if faults.max_body_bytes and len(body) > faults.max_body_bytes:
            return _error(413, "payload_too_large", "entry too large")
        key = headers.get(b"idempotency-key", b"").decode()
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _error(400, "bad_request", "body is not JSON")
        if not isinstance(doc, dict) or "level" not in doc or "message" not in doc:
            return _error(400, "bad_request", "missing required field")
        meta = doc.get("meta") or {}
        if not self.require_key:  # bench/versus.py: syslog-ng cannot template a header
            key = str(meta.get("event_id"))
        if key in faults.poisoned or meta.get("event_id") != key:
            return _error(400, "bad_request", "invalid entry")
        self.accepted[key] += 1
        self.accepted_total += 1
        self.by_server[str(meta.get("server_id"))] += 1
        if self.messages is not None:
            self.messages.append((str(meta.get("server_id")), str(doc["message"]), time.time()))
        now = time.monotonic()
        if self.accepted[key] > 1:  # stored before answering: a late answer makes duplicates
            self.duplicate_times.append(now)
        self.first_accepted_at = self.first_accepted_at or now
        self.last_accepted_at = now
        if self.order is not None:
            self.order.append(key)
        if self.bodies is not None:
            self.bodies.append(doc)
        out = b'{"id":"%d","level":"%s","message":"","meta":{},"created_at":"2026-11-22T00:00:00Z"}'
        return 201, b"", out % (self.accepted_total, doc["level"].encode())

    def stats(self) -> dict[str, object]:
        """Counters as JSON-able data."""
        return {
            "requests": self.requests,
            "accepted_total": self.accepted_total,
            "unique": len(self.accepted),
            "duplicates": len(self.duplicate_times),
            "statuses": {str(k): v for k, v in self.statuses.items()},
            "first_accepted_at": self.first_accepted_at,
            "last_accepted_at": self.last_accepted_at,
        }


def _error(status: int, code: str, message: str) -> tuple[int, bytes, bytes]:
    return status, b"", orjson.dumps({"error": {"code": code, "message": message}})


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection (no pipelining needed by the agent)."""

    def __init__(self, state: ReceiverState) -> None:
        self.state = state
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].split(b"\r\n")
            headers = {}
            for line in head[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get(b"content-length", b"0"))
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            self._handle(head[0], headers, body)

    def _handle(self, request_line: bytes, headers: dict[bytes, bytes], body: bytes) -> None:
        method, path, *_ = request_line.split(b" ")
        if b"://" in path:  # absolute-form, as a forwarding proxy sends it (RFC 9112 3.2.2)
            path = b"/" + path.split(b"/", 3)[-1]
        if method == b"GET" and path == b"/stats":
            self._reply((200, b"", orjson.dumps(self.state.stats())))
            return
        if method != b"POST" or path != b"/logs":
            self._reply((404, b"", b'{"error":{"code":"not_found","message":"no such path"}}'))
            return
        result = self.state.answer(headers, body)
        if result is None:
            assert self.transport is not None
            self.transport.abort()
            return
        latency = self.state.faults.latency
        if latency:
            asyncio.get_running_loop().call_later(latency, self._reply, result)
        else:
            self._reply(result)

    def _reply(self, result: tuple[int, bytes, bytes]) -> None:
        status, extra, payload = result
        self.state.statuses[status] += 1
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(
            b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s"
            % (status, _REASONS.get(status, b"Other"), len(payload), extra, payload)
        )


class LoopServer:
    """A test server on 127.0.0.1 with its own event loop in a background thread (this
    receiver, and tests/connect_proxy.py's proxy): ``with`` returns once it listens on
    ``port``; leaving it stops the loop, closes the socket and ends the tasks still open
    (a tunnel) before the loop is closed. Subclasses say how to listen (:meth:`_listen`)."""

    def __init__(self, name: str, tls: ssl.SSLContext | None) -> None:
        self._tls = tls
        self.port = 0
        self._name = name
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)

    @property
    def _scheme(self) -> str:
        return "https" if self._tls is not None else "http"

    async def _listen(self) -> asyncio.Server:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"{self._name} did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(self._listen())
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        pending = asyncio.all_tasks(self._loop)  # open tunnels: end them before closing
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()


class Receiver(LoopServer):
    """The receiver on 127.0.0.1 in a background thread (``with Receiver() as rx:``)."""

    def __init__(
        self,
        token: str = "so_test_receiver0000",
        faults: Faults | None = None,
        *,
        tls: ssl.SSLContext | None = None,
        url_host: str = "127.0.0.1",
    ) -> None:
        """``tls``: serve https with this server context (tests/tls.py makes one);
        ``url_host``: the host name ``url`` gives (one the certificate and a proxy know)."""
        super().__init__("receiver", tls)
        self.state = ReceiverState(token, faults or Faults())
        self._url_host = url_host

    @property
    def url(self) -> str:
        """The base URL (the agent appends /logs)."""
        return f"{self._scheme}://{self._url_host}:{self.port}"

    @property
    def faults(self) -> Faults:
        """The live fault settings."""
        return self.state.faults

    async def _listen(self) -> asyncio.Server:
        return await self._loop.create_server(
            lambda: _Connection(self.state), "127.0.0.1", 0, ssl=self._tls
        )


async def _serve_forever(port: int, state: ReceiverState) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Connection(state), "127.0.0.1", port)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    """Run the receiver as a process (benchmarks): prints the port, serves until killed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default="so_test_receiver0000")
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args(argv)
    faults = Faults(error_rate=args.error_rate, latency=args.latency)
    try:
        import uvloop  # type: ignore[import-not-found]

        uvloop.install()
    except ImportError:
        pass
    try:
        asyncio.run(_serve_forever(args.port, ReceiverState(args.token, faults)))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
