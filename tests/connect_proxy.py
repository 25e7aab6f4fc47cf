"""A small HTTP proxy on 127.0.0.1 for tests: CONNECT tunnels and plain-http forwarding.

It records what it was asked for (the CONNECT targets, the forwarded hosts, and any
Proxy-Authorization header) and resolves names itself through ``hosts`` (so the agent never
needs to resolve the API's name, as behind a real proxy). It can demand credentials
(``require_auth="user:pass"``, else 407); a target it cannot reach gets 502.

``with ConnectProxy(hosts={"api.test": "127.0.0.1"}) as proxy: ... proxy.url``; with
``tls=`` (a server context) it is an https:// proxy.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from collections.abc import Mapping

from receiver import LoopServer


class ConnectProxy(LoopServer):
    """The proxy in a background thread; read ``connects``/``forwards``/``auth`` after use."""

    def __init__(
        self,
        hosts: Mapping[str, str] | None = None,
        require_auth: str | None = None,
        *,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """``tls``: an https:// proxy (the client speaks TLS to it, then TLS inside)."""
        super().__init__("proxy", tls)
        self.hosts = dict(hosts or {})
        self.require_auth = require_auth
        self.connects: list[str] = []  # "host:port" of every CONNECT
        self.forwards: list[str] = []  # "host:port" of every plain-http request forwarded
        self.auth: list[str | None] = []  # the Proxy-Authorization of each request, or None
        self.refused = 0  # requests answered 407

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"{self._scheme}://127.0.0.1:{self.port}"

    def url_with(self, credentials: str) -> str:
        """``http://user:pass@127.0.0.1:PORT``."""
        return f"{self._scheme}://{credentials}@127.0.0.1:{self.port}"

    async def _listen(self) -> asyncio.Server:
        return await asyncio.start_server(self._client, "127.0.0.1", 0, ssl=self._tls)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
        auth = _header(head, b"proxy-authorization")
        self.auth.append(auth)
        if self.require_auth is not None and auth != _basic(self.require_auth):
            self.refused += 1
            writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
            await _close(writer)
            return
        if method == "CONNECT":
            self.connects.append(target)
            host, _, port = target.rpartition(":")
            first = b""
        else:  # absolute-form: http://host:port/path
            authority = target.split("/", 3)[2]
            host, _, port = authority.rpartition(":") if ":" in authority else (authority, "", "80")
            self.forwards.append(f"{host}:{port}")
            first = head
        try:
            up_reader, up_writer = await asyncio.open_connection(
                self.hosts.get(host, host), int(port)
            )
        except OSError:
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            await _close(writer)
            return
        if method == "CONNECT":
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            up_writer.write(first)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


def _header(head: bytes, name: bytes) -> str | None:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip().decode("latin-1")
    return None


def _basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        await _close(writer)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError, OSError):
        await writer.wait_closed()
