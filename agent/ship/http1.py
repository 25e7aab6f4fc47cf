"""The default transport: HTTP/1.1 keep-alive on asyncio protocols, answers parsed by httptools.

Why not aiohttp for this: one POST per entry is the API's contract, so the per-request
cost is paid per log line. aiohttp's client builds a request object, a response object, a
header multidict or two, a cookie filter and a timer for every request: ~210-280 µs of CPU
per request on the development VM, against ~40-90 µs here (bench/README.md "### Lean
HTTP/1.1 transport"). The protocol work that must be right (parsing status line, headers,
Content-Length or chunked bodies, keep-alive rules) is done by httptools (llhttp, the
parser of Node.js, as uvicorn uses it); what is left here is writing one prepared request
and keeping a pool of idle connections.

Scope, decided: direct connections only, over ``http://`` (loopback or with
``allow_insecure_http``) or verified TLS (:func:`agent.ship.tls.tls_context`). Through a
proxy, :func:`agent.ship.transport.make_transport` picks aiohttp, which handles CONNECT
tunnels and proxy authentication; HTTP/2 stays with httpx.

Behaviour an operator can rely on:

* At most ``concurrency`` idle connections are kept; the uploader's slots bound the busy
  ones. A connection the server answered with ``Connection: close`` (or an HTTP/1.0
  answer without keep-alive) is closed after its answer.
* A kept connection the server closed while idle (its keep-alive timeout) fails the next
  request before any byte of an answer arrived: that request is sent once more on a new
  connection. The ``Idempotency-Key`` makes a repeat harmless even if the server had read it.
* Every failure without an answer is a RetryableShipError naming ``host:port`` and the
  cause (agent/ship/connection_errors.py), never the token; a timeout (``timeout``
  seconds for connect, send and answer together) closes the connection, whose state is
  then unknown.
* An answer body is kept up to :data:`MAX_ANSWER_BYTES` (it is only read for error
  messages and dead letters); the rest is read and discarded so the connection stays usable.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

import httptools
from pydantic import SecretStr

from agent.errors import RetryableShipError
from agent.ship.connection_errors import connection_failure
from agent.ship.tls import tls_context
from agent.ship.transport import Answer

MAX_ANSWER_BYTES = 64 * 1024


class _Stale(Exception):  # noqa: N818 - control flow inside this module
    """A reused connection was closed before any byte of the answer arrived."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection: one request at a time, its answer as a future."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._answer: asyncio.Future[Answer] | None = None
        self._retry_after: str | None = None
        self._body: list[bytes] = []
        self._body_size = 0
        self._received = False  # any byte of the current answer
        self.closed = False
        self.used = False  # sent a request before: a failure may be a stale keep-alive
        self.keep_alive = True

    # -- asyncio.Protocol -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._received = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(exc)
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._answer is not None and not self._answer.done():
            lost = ConnectionResetError("the server closed the connection")
            self._fail(_Stale() if self.used and not self._received else exc or lost)

    # -- httptools callbacks --------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"retry-after":
            self._retry_after = value.decode("latin-1")

    def on_body(self, chunk: bytes) -> None:
        room = MAX_ANSWER_BYTES - self._body_size
        if room > 0:
            self._body.append(chunk[:room])
            self._body_size += min(room, len(chunk))

    def on_message_complete(self) -> None:
        status = self._parser.get_status_code()
        if status < 200:  # an interim answer (100 Continue): the real one follows
            self._reset()
            return
        self.keep_alive = self._parser.should_keep_alive()
        answer = Answer(status, self._retry_after, b"".join(self._body))
        if self._answer is not None and not self._answer.done():
            self._answer.set_result(answer)

    # -- used by the transport ------------------------------------------------------------

    async def exchange(self, request: bytes) -> Answer:
        """Send one request and wait for its whole answer."""
        assert self._transport is not None
        self._reset()
        self._answer = asyncio.get_running_loop().create_future()
        self._transport.write(request)
        try:
            return await self._answer
        finally:
            self._answer = None
            self.used = True

    def close(self) -> None:
        if self._transport is not None and not self.closed:
            self.closed = True
            self._transport.close()

    def _reset(self) -> None:
        self._retry_after = None
        self._body = []
        self._body_size = 0
        self._received = False

    def _fail(self, exc: BaseException) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(exc)


class Http1Transport:
    """POST /logs over a pool of keep-alive HTTP/1.1 connections (see the module docstring)."""

    def __init__(
        self,
        url: str,
        token: SecretStr,
        *,
        concurrency: int,
        timeout: float,
        ca_file: Path | None = None,
    ) -> None:
        parts = urlsplit(url)
        self._url = url
        self._host = parts.hostname or ""
        self._tls = parts.scheme == "https"
        self._port = parts.port or (443 if self._tls else 80)
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._context = tls_context(ca_file) if self._tls else None
        if self._context is not None:
            self._context.set_alpn_protocols(["http/1.1"])
        self._concurrency = concurrency
        self._timeout = timeout
        self._idle: deque[_Connection] = deque()
        self._open: set[_Connection] = set()
        self._head = self._request_head(token)

    def __repr__(self) -> str:
        return f"Http1Transport({self._url!r})"

    def set_token(self, token: SecretStr) -> None:
        """Use this token from the next request on."""
        self._head = self._request_head(token)

    async def post(self, body: bytes, idempotency_key: str) -> Answer:
        """POST one entry; every failure without an answer is a RetryableShipError."""
        request = b"%sIdempotency-Key: %s\r\nContent-Length: %d\r\n\r\n%s" % (
            self._head,
            idempotency_key.encode("ascii"),
            len(body),
            body,
        )
        try:
            async with asyncio.timeout(self._timeout):
                return await self._post(request)
        except TimeoutError:
            raise RetryableShipError(f"timeout after {self._timeout:g} s") from None

    async def aclose(self) -> None:
        """Close every connection."""
        for connection in list(self._open):
            connection.close()
        self._open.clear()
        self._idle.clear()

    # -- internals ------------------------------------------------------------------------

    async def _post(self, request: bytes) -> Answer:
        connection = self._idle_connection()
        if connection is not None:
            with contextlib.suppress(_Stale):
                return await self._exchange(connection, request)
        return await self._exchange(await self._connect(), request)

    async def _exchange(self, connection: _Connection, request: bytes) -> Answer:
        try:
            answer = await connection.exchange(request)
        except _Stale:
            self._forget(connection)
            raise
        except BaseException as exc:  # a cancelled or failed exchange leaves it unusable
            self._forget(connection)
            if isinstance(exc, (OSError, httptools.HttpParserError)):
                raise connection_failure(self._url, None, exc, connecting=False) from exc
            raise
        if connection.keep_alive and not connection.closed and len(self._idle) < self._concurrency:
            self._idle.append(connection)
        else:
            self._forget(connection)
        return answer

    def _idle_connection(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()  # the most recent: the least likely to be stale
            if not connection.closed:
                return connection
            self._open.discard(connection)
        return None

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(
                _Connection,
                self._host,
                self._port,
                ssl=self._context,
                server_hostname=self._host if self._context is not None else None,
            )
        except OSError as exc:  # refused, unreachable, name not resolved, TLS (SSLError)
            raise connection_failure(self._url, None, exc, connecting=True) from exc
        self._open.add(connection)
        return connection

    def _forget(self, connection: _Connection) -> None:
        connection.close()
        self._open.discard(connection)

    def _request_head(self, token: SecretStr) -> bytes:
        """Request line and the headers every request carries (Authorization included)."""
        default_port = 443 if self._tls else 80
        host = f"[{self._host}]" if ":" in self._host else self._host
        if self._port != default_port:
            host = f"{host}:{self._port}"
        lines = [
            f"POST {self._target} HTTP/1.1",
            f"Host: {host}",
            "User-Agent: serverops-agent",
            "Content-Type: application/json",
            "Accept-Encoding: identity",
        ]
        secret = token.get_secret_value()
        if secret:
            lines.append(f"Authorization: Bearer {secret}")
        return ("\r\n".join(lines) + "\r\n").encode("ascii")
