"""Which proxy, if any, carries requests to the API: ``api.proxy`` or the environment.

The agent decides this itself, once per transport, and hands both HTTP libraries the
answer with their own environment handling off. aiohttp (``trust_env=True``) and httpx
read the same variables with different rules: aiohttp ignores an ``https://`` proxy found
in the environment with only a log warning and matches NO_PROXY through urllib, httpx
turns NO_PROXY entries into its own URL patterns. One rule here means both transports, and
``check``, reach the API the same way, the way curl and Go programs do:

* ``api.proxy`` (explicit) wins over the environment, and NO_PROXY does not apply to it:
  it is the agent's own setting for its one destination.
* Otherwise ``https_proxy``/``HTTPS_PROXY`` for an https API, ``http_proxy``/``HTTP_PROXY``
  for an http one; the lower-case name wins when both are set (curl, Python). A value
  without a scheme means ``http://`` (curl, Go). ``ALL_PROXY`` is not read.
* NO_PROXY/no_proxy: comma-separated; ``*`` bypasses every proxy; ``example.com``,
  ``.example.com`` and ``*.example.com`` all match example.com and its subdomains (curl);
  an IP address matches itself, a CIDR block (``10.0.0.0/8``) its addresses; an entry with
  a port (``example.com:8443``, ``[::1]:8443``) matches that port only.
* A loopback API (``localhost``, 127.0.0.0/8, ::1) is never proxied, as in Go: plain http
  is allowed there only because the request never leaves the host.

Proxy credentials (``http://user:pass@proxy:3128``) are as secret as the token:
:meth:`ProxyChoice.display` names the proxy as ``host:port`` only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from agent.errors import ConfigError
from agent.ship.urls import is_loopback_host

_SCHEMES = ("http", "https")


@dataclass(frozen=True, slots=True)
class ProxyChoice:
    """A proxy for the API: its full URL (credentials included) and where it came from."""

    url: str = field(repr=False)  # may hold user:password; never log it
    source: str  # "api.proxy" or the environment variable's name

    @property
    def host_port(self) -> str:
        """``host:port`` of the proxy, for messages (no credentials)."""
        return host_port(self.url)

    def display(self) -> str:
        """How messages name it: ``proxy.corp:3128 (from HTTPS_PROXY)``."""
        return f"{self.host_port} (from {self.source})"

    def __repr__(self) -> str:
        return f"ProxyChoice({self.host_port!r}, source={self.source!r})"


def host_port(url: str) -> str:
    """``host:port`` of an http(s) URL, the port defaulting to the scheme's."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: say what is there
        port = None
    return f"{host}:{port or (443 if parts.scheme == 'https' else 80)}"


def check_proxy_url(url: str, name: str) -> str:
    """The proxy URL normalised (``host:3128`` -> ``http://host:3128``), or ConfigError
    naming ``name`` (a key or a variable) and never the value (it may hold a password)."""
    value = url.strip()
    if "://" not in value:
        value = "http://" + value
    parts = urlsplit(value)
    if parts.scheme not in _SCHEMES:
        raise ConfigError(
            f"{name}: {parts.scheme}:// proxies are not supported; use an http:// "
            "(or https://) proxy"
        )
    try:
        parts.port  # noqa: B018 (validates the port)
    except ValueError:
        raise ConfigError(f"{name}: the proxy URL has an invalid port") from None
    if not parts.hostname:
        raise ConfigError(f"{name}: the proxy URL has no host")
    return value


def choose_proxy(
    api_url: str, explicit: str | None, environ: Mapping[str, str]
) -> ProxyChoice | None:
    """The proxy to reach ``api_url`` through, or None for a direct connection."""
    parts = urlsplit(api_url)
    host = parts.hostname or ""
    if is_loopback_host(host):
        return None
    if explicit:
        return ProxyChoice(check_proxy_url(explicit, "api.proxy"), "api.proxy")
    found = _env_proxy(parts.scheme, environ)
    if found is None:
        return None
    name, value = found
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if bypasses(host, port, _env(environ, "no_proxy")):
        return None
    return ProxyChoice(check_proxy_url(value, name), name)


def _env_proxy(scheme: str, environ: Mapping[str, str]) -> tuple[str, str] | None:
    for name in (f"{scheme}_proxy", f"{scheme.upper()}_PROXY"):
        value = environ.get(name, "").strip()
        if value:
            return name, value
    return None


def _env(environ: Mapping[str, str], lower: str) -> str:
    return environ.get(lower) or environ.get(lower.upper()) or ""


def bypasses(host: str, port: int, no_proxy: str) -> bool:
    """True when NO_PROXY (the variable's value) says to connect to host:port directly."""
    host = host.lower().rstrip(".").strip("[]")
    for raw in no_proxy.replace(" ", ",").split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        pattern, entry_port = _split_port(entry)
        if entry_port is not None and entry_port != port:
            continue
        if _host_matches(host, pattern):
            return True
    return False


def _split_port(entry: str) -> tuple[str, int | None]:
    """``example.com:8443`` -> (example.com, 8443); bare IPv6 addresses have no port."""
    if entry.startswith("["):  # [::1] or [::1]:8443
        address, _, rest = entry[1:].partition("]")
        port = rest.removeprefix(":")
        return address, int(port) if port.isdigit() else None
    if entry.count(":") == 1:
        name, _, port = entry.partition(":")
        if port.isdigit():
            return name, int(port)
    return entry, None


def _host_matches(host: str, pattern: str) -> bool:
    if "/" in pattern:  # CIDR
        try:
            return ipaddress.ip_address(host) in ipaddress.ip_network(pattern, strict=False)
        except ValueError:
            return False
    try:
        return ipaddress.ip_address(host) == ipaddress.ip_address(pattern)
    except ValueError:
        pass
    domain = pattern.removeprefix("*").lstrip(".").rstrip(".")
    return bool(domain) and (host == domain or host.endswith("." + domain))
