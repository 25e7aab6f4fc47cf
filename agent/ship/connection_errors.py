"""Connection failures in words an operator can act on, naming where the agent connected.

``cannot connect to api.example:443: Connection refused``, and through a proxy
``cannot connect to api.example:443 through proxy proxy.example:3128: the proxy answered
407 Proxy Authentication Required``. Both transports (agent/ship/transport.py) build their
RetryableShipError here, from host, port and the cause's errno, TLS verdict or proxy
status only, never from a library's own text: aiohttp's and httpx's can quote the proxy URL,
credentials included.
"""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Iterator

from agent.errors import RetryableShipError
from agent.ship.proxy import ProxyChoice, host_port


def connection_failure(
    url: str, proxy: ProxyChoice | None, exc: BaseException, *, connecting: bool
) -> RetryableShipError:
    """``cannot connect to api.example:443 [through proxy p:3128]: Connection refused``.

    Built from host, port and the cause's errno/TLS reason only: a library's own message
    can quote the proxy URL, credentials included.
    """
    via = f" through proxy {proxy.host_port}" if proxy is not None else ""
    what = "cannot connect to" if connecting else "connection failed to"
    return RetryableShipError(f"{what} {host_port(url)}{via}: {_reason(exc)}")


def _reason(exc: BaseException) -> str:
    for cause in _chain(exc):
        status = _proxy_status(cause)
        if status:
            return f"the proxy answered {status}"
        if type(cause).__module__ not in ("ssl", "socket", "builtins"):
            continue  # a library's wrapper: its text can quote the proxy URL
        if isinstance(cause, ssl.SSLCertVerificationError):
            detail = getattr(cause, "verify_message", None) or str(cause)
            return (
                f"TLS certificate not trusted ({detail}); "
                "if the API (or a TLS-inspecting proxy) uses a private CA, set api.ca_file"
            )
        if isinstance(cause, ssl.SSLError):
            return f"TLS error ({cause.reason or type(cause).__name__})"
        if isinstance(cause, socket.gaierror):
            return f"name not resolved ({cause.strerror})"
        if isinstance(cause, OSError) and cause.errno:
            return os.strerror(cause.errno)
    return type(exc).__name__


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, the errors it wraps (aiohttp keeps them in attributes), and its causes."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for name in ("certificate_error", "os_error"):
            inner = getattr(current, name, None)
            if isinstance(inner, BaseException):
                todo.append(inner)
        todo += [current.__cause__, current.__context__]


def _proxy_status(exc: BaseException) -> str | None:
    """``407 Proxy Authentication Required`` when the proxy refused the CONNECT."""
    name = type(exc).__name__
    if name == "ClientHttpProxyError":  # aiohttp: status and reason attributes
        return f"{getattr(exc, 'status', '')} {getattr(exc, 'message', '')}".strip()
    if name == "ProxyError" and type(exc).__module__.startswith(("httpx", "httpcore")):
        return str(exc)  # httpcore's message is "<status> <reason>"
    return None
