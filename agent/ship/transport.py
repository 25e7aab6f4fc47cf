"""The HTTP seam: one POST /logs per entry, answered as an :class:`Answer`.

The uploader (and ``check``) talk to a :class:`Transport`; library errors (timeouts,
refused or reset connections, TLS and protocol errors) are translated here into
:class:`~agent.errors.RetryableShipError` so nothing above this module knows which HTTP
library is in use. What an answer *means* (accepted, retry, pause, dead-letter) is the
retry rule's business (agent/ship/retry.py, which imports :class:`Answer` from here); the
transport only carries it. Three implementations:

* :class:`agent.ship.http1.Http1Transport` (default for a direct connection): keep-alive
  HTTP/1.1 on asyncio protocols with httptools' parser, a quarter of aiohttp's CPU per
  request (bench/README.md "### Lean HTTP/1.1 transport"); the agent runs beside a game
  server whose CPU matters, and it pays one request per log line.
* :class:`AiohttpTransport`: through a proxy (CONNECT tunnels, proxy authentication), or
  when asked for; measured at a fraction of httpx's CPU per request (bench/README.md
  "## ship").
* :class:`HttpxTransport`: httpx ``AsyncClient``, optionally HTTP/2; tested with respx.

All keep ``concurrency`` connections alive and never log headers (the token). The two
libraries reach the API the same way: through the proxy
:func:`agent.ship.proxy.choose_proxy` picked (the libraries' own environment handling is
off: it differs between them), trusting what :func:`agent.ship.tls.tls_context` trusts.
A failure to connect names ``host:port`` of the API, and of the proxy when there is one,
never the proxy's credentials.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from pydantic import SecretStr

from agent import events
from agent.errors import ConfigError, RetryableShipError
from agent.ship.connection_errors import connection_failure
from agent.ship.proxy import ProxyChoice, host_port
from agent.ship.tls import tls_context

log = logging.getLogger(__name__)

TransportName = Literal["http1", "aiohttp", "httpx"]


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

    def __init__(
        self,
        url: str,
        token: SecretStr,
        *,
        concurrency: int,
        timeout: float,
        proxy: ProxyChoice | None = None,
        ca_file: Path | None = None,
    ) -> None:
        self._url = url
        self._headers = _headers(token)
        self._concurrency = concurrency
        self._timeout = timeout
        self._proxy = proxy
        self._tls = tls_context(ca_file)
        self._tls.set_alpn_protocols(["http/1.1"])  # as aiohttp's own default context does
        self._session = None

    def __repr__(self) -> str:
        return f"AiohttpTransport({self._url!r}, proxy={self._proxy!r})"

    def set_token(self, token: SecretStr) -> None:
        """Use this token from the next request on."""
        self._headers = _headers(token)

    def _open(self):  # the session must be created inside the running event loop
        import aiohttp

        connector = aiohttp.TCPConnector(limit=self._concurrency, ttl_dns_cache=300, ssl=self._tls)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self._timeout),
            skip_auto_headers=("User-Agent",),
            headers={"User-Agent": "serverops-agent"},
            trust_env=False,  # proxies come from agent.ship.proxy (one rule for both libraries)
        )
        return self._session

    async def post(self, body: bytes, idempotency_key: str) -> Answer:
        """POST one entry; library errors become RetryableShipError."""
        import aiohttp

        session = self._session or self._open()
        headers = {**self._headers, "Idempotency-Key": idempotency_key}
        # The proxy URL keeps its user:password: aiohttp turns them into Proxy-Authorization
        # (on the CONNECT for an https API, on the request itself for an http one).
        proxy = self._proxy.url if self._proxy is not None else None
        try:
            async with session.post(self._url, data=body, headers=headers, proxy=proxy) as response:
                data = await response.read()
                return Answer(response.status, response.headers.get("Retry-After"), data)
        except TimeoutError as exc:
            raise RetryableShipError(f"timeout after {self._timeout:g} s") from exc
        except (aiohttp.ClientConnectorError, aiohttp.ClientHttpProxyError) as exc:
            raise connection_failure(self._url, self._proxy, exc, connecting=True) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise connection_failure(self._url, self._proxy, exc, connecting=False) from exc

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
        verify: ssl.SSLContext | None = None,
        proxy: ProxyChoice | None = None,
        ca_file: Path | None = None,
    ) -> None:
        import httpx

        self._url = url
        self._headers = _headers(token)
        self._proxy = proxy
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        context = verify or tls_context(ca_file)  # a given context: bench/ship_http2.py
        try:
            self._client = httpx.AsyncClient(
                timeout=timeout,
                limits=limits,
                http2=http2,
                transport=transport,  # type: ignore[arg-type]
                verify=context,
                proxy=_httpx_proxy(proxy, ca_file),
                trust_env=False,  # proxies come from agent.ship.proxy, CAs from agent.ship.tls
                headers={"User-Agent": "serverops-agent"},
            )
        except ImportError as exc:  # http2 without the h2 package
            raise ConfigError(
                "api.http2 = true needs the h2 package: pip install 'serverops-agent[http2]'"
            ) from exc
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"HttpxTransport({self._url!r}, proxy={self._proxy!r})"

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
        except (httpx.ConnectError, httpx.ProxyError) as exc:
            raise connection_failure(self._url, self._proxy, exc, connecting=True) from exc
        except httpx.TransportError as exc:
            raise connection_failure(self._url, self._proxy, exc, connecting=False) from exc
        return Answer(response.status_code, response.headers.get("Retry-After"), response.content)

    async def aclose(self) -> None:
        """Close the client and its connections."""
        await self._client.aclose()


def _httpx_proxy(proxy: ProxyChoice | None, ca_file: Path | None) -> object | None:
    """httpx's Proxy: user:password move from the URL into Proxy-Authorization; the TLS of
    an https:// proxy trusts the same CAs as the API's (httpcore refuses a context for an
    http:// one)."""
    import httpx

    if proxy is None:
        return None
    is_tls = proxy.url.startswith("https://")
    return httpx.Proxy(proxy.url, ssl_context=tls_context(ca_file) if is_tls else None)


def make_transport(
    name: TransportName,
    url: str,
    token: SecretStr,
    *,
    concurrency: int,
    timeout: float,
    http2: bool = False,
    proxy: ProxyChoice | None = None,
    ca_file: Path | None = None,
) -> Transport:
    """Build the named transport for the ingest URL (already checked by :func:`check_url`),
    through ``proxy`` (None: direct), trusting the system store plus ``ca_file``."""
    if proxy is not None:  # the environment can change the route: say which one is taken
        log.info("%s: to %s via proxy %s", events.SHIP_PROXY, host_port(url), proxy.display())
    if name == "http1" and proxy is None and not http2:
        from agent.ship.http1 import Http1Transport

        return Http1Transport(url, token, concurrency=concurrency, timeout=timeout, ca_file=ca_file)
    if name == "httpx" or http2:
        return HttpxTransport(
            url,
            token,
            concurrency=concurrency,
            timeout=timeout,
            http2=http2,
            proxy=proxy,
            ca_file=ca_file,
        )
    return AiohttpTransport(
        url, token, concurrency=concurrency, timeout=timeout, proxy=proxy, ca_file=ca_file
    )
