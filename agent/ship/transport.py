"""The HTTP seam: one POST /logs per entry, answered as an :class:`Answer`.

The uploader (and ``check``) talk to a :class:`Transport`; library errors (timeouts,
refused or reset connections, TLS and protocol errors) are translated here into
:class:`~agent.errors.RetryableShipError` so nothing above this module knows which HTTP
library is in use. What an answer *means* (accepted, retry, pause, dead-letter) is the
retry rule's business (agent/ship/retry.py, which imports :class:`Answer` from here); the
transport only carries it. Two implementations:

* :class:`AiohttpTransport` (default): measured at a fraction of httpx's CPU per request
  (bench/README.md "## ship"); the agent runs beside a game server whose CPU matters.
* :class:`HttpxTransport`: httpx ``AsyncClient``, optionally HTTP/2; tested with respx.

Both keep ``concurrency`` connections alive and never log headers (the token).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import SecretStr

from agent.errors import ConfigError, RetryableShipError

TransportName = Literal["aiohttp", "httpx"]


@dataclass(frozen=True, slots=True)
class Answer:
    """What the API sent back for one request (the seam's return type)."""

    status: int
    retry_after: str | None  # the raw Retry-After header; the retry rule parses it
    body: bytes


class Transport(Protocol):
    """Sends one encoded entry; raises RetryableShipError when no HTTP answer came back."""

    async def post(self, body: bytes, idempotency_key: str) -> Answer:
        """POST the body to {url}/logs with the current token."""
        ...

    def set_token(self, token: SecretStr) -> None:
        """Use this token from the next request on (after a reload)."""
        ...

    async def aclose(self) -> None:
        """Close pooled connections."""
        ...


def _headers(token: SecretStr) -> dict[str, str]:
    """Request headers; an empty token sends no Authorization (``check`` without a token)."""
    headers = {"Content-Type": "application/json"}
    if token.get_secret_value():
        headers["Authorization"] = f"Bearer {token.get_secret_value()}"
    return headers


class AiohttpTransport:
    """aiohttp ClientSession with a keep-alive pool of ``concurrency`` connections."""

    def __init__(self, url: str, token: SecretStr, *, concurrency: int, timeout: float) -> None:
        self._url = url
        self._headers = _headers(token)
        self._concurrency = concurrency
        self._timeout = timeout
        self._session = None

    def __repr__(self) -> str:
        return f"AiohttpTransport({self._url!r})"

    def set_token(self, token: SecretStr) -> None:
        """Use this token from the next request on."""
        self._headers = _headers(token)

    def _open(self):  # the session must be created inside the running event loop
        import aiohttp

        connector = aiohttp.TCPConnector(limit=self._concurrency, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self._timeout),
            skip_auto_headers=("User-Agent",),
            headers={"User-Agent": "serverops-agent"},
        )
        return self._session

    async def post(self, body: bytes, idempotency_key: str) -> Answer:
        """POST one entry; library errors become RetryableShipError."""
        import aiohttp

        session = self._session or self._open()
        headers = {**self._headers, "Idempotency-Key": idempotency_key}
        try:
            async with session.post(self._url, data=body, headers=headers) as response:
                data = await response.read()
                return Answer(response.status, response.headers.get("Retry-After"), data)
        except TimeoutError as exc:
            raise RetryableShipError(f"timeout after {self._timeout:g} s") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise RetryableShipError(f"connection error: {type(exc).__name__}") from exc

    async def aclose(self) -> None:
        """Close the session and its connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None


class HttpxTransport:
    """httpx AsyncClient (HTTP/1.1 keep-alive, or HTTP/2 when ``http2``)."""

    def __init__(
        self,
        url: str,
        token: SecretStr,
        *,
        concurrency: int,
        timeout: float,
        http2: bool = False,
        transport: object | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        import httpx

        self._url = url
        self._headers = _headers(token)
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        try:
            self._client = httpx.AsyncClient(
                timeout=timeout,
                limits=limits,
                http2=http2,
                transport=transport,  # type: ignore[arg-type]
                verify=verify,  # system CAs unless a context is given (bench/ship_http2.py)
                headers={"User-Agent": "serverops-agent"},
            )
        except ImportError as exc:  # http2 without the h2 package
            raise ConfigError(
                "api.http2 = true needs the h2 package: pip install 'serverops-agent[http2]'"
            ) from exc
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"HttpxTransport({self._url!r})"

    def set_token(self, token: SecretStr) -> None:
        """Use this token from the next request on."""
        self._headers = _headers(token)

    async def post(self, body: bytes, idempotency_key: str) -> Answer:
        """POST one entry; library errors become RetryableShipError."""
        import httpx

        headers = {**self._headers, "Idempotency-Key": idempotency_key}
        try:
            response = await self._client.post(self._url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise RetryableShipError(f"timeout after {self._timeout:g} s") from exc
        except httpx.TransportError as exc:
            raise RetryableShipError(f"connection error: {type(exc).__name__}") from exc
        return Answer(response.status_code, response.headers.get("Retry-After"), response.content)

    async def aclose(self) -> None:
        """Close the client and its connections."""
        await self._client.aclose()


def make_transport(
    name: TransportName,
    url: str,
    token: SecretStr,
    *,
    concurrency: int,
    timeout: float,
    http2: bool = False,
) -> Transport:
    """Build the named transport for the ingest URL (already checked by :func:`check_url`)."""
    if name == "httpx" or http2:
        return HttpxTransport(url, token, concurrency=concurrency, timeout=timeout, http2=http2)
    return AiohttpTransport(url, token, concurrency=concurrency, timeout=timeout)
