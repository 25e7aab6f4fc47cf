"""The API URL rule, in one place: https, except to this machine or when allowed."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from agent.errors import ConfigError


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, allow_insecure_http: bool) -> str:
    """The ingest URL ``{url}/logs``; https required unless loopback or explicitly allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"api.url: not an http(s) URL: {url!r}")
    if parts.scheme == "http" and not (allow_insecure_http or is_loopback_host(parts.hostname)):
        raise ConfigError(
            "api.url: plain http is only allowed to a loopback address; "
            "use https or set api.allow_insecure_http = true"
        )
    return url.rstrip("/") + "/logs"
