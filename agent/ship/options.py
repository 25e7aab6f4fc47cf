"""What the uploader is told (:class:`UploaderOptions`) and what it reports
(:class:`UploaderStatus`), in a module of their own so wiring and ``check`` can build
options without importing the uploader's machinery."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from agent.ship.proxy import choose_proxy
from agent.ship.transport import Transport, TransportName, make_transport
from agent.ship.urls import check_url


@dataclass(frozen=True, slots=True)
class UploaderOptions:
    """How the uploader sends.

    Fields named like an ``[api]`` key (url, http2, allow_insecure_http, concurrency,
    batch_size, batch_linger_seconds, timeout_seconds, shutdown_deadline_seconds) are
    filled from the config by ``agent.app.wiring.uploader_options``, the one place that
    maps ``[api]``; their defaults here must equal ``ApiConfig``'s, and
    tests/test_uploader.py fails if they drift apart.

    The others are internal tuning, not in the config file, and keep these defaults:
    ``transport`` (the lean HTTP/1.1 transport for a direct connection, aiohttp through a
    proxy, httpx for ``http2 = true``: bench/README.md "## ship"), ``max_pending`` (the
    memory bound, measured in bench/README.md "### Memory"), the backoff and pause
    intervals (the API's contract: backoff is capped, a pause is retried every few minutes
    unless the server's Retry-After says otherwise, and Retry-After is capped). Tests and
    benchmarks shorten them; operators have no reason to.
    """

    url: str
    transport: TransportName = "http1"
    http2: bool = False
    allow_insecure_http: bool = False
    concurrency: int = 8
    batch_size: int = 256
    batch_linger_seconds: float = 0.2  # poll interval when the spool is empty (appends wake)
    timeout_seconds: float = 10.0
    shutdown_deadline_seconds: float = 10.0
    max_pending: int = 1024  # records in memory: queued, in flight or waiting to retry
    backoff_initial_seconds: float = 0.25
    backoff_max_seconds: float = 60.0
    auth_retry_seconds: float = 180.0
    quota_retry_seconds: float = 900.0
    max_retry_after_seconds: float = 3600.0
    # [api] proxy and ca_file (agent/ship/proxy.py, agent/ship/tls.py); the proxy URL may
    # hold user:password, so it stays out of the repr.
    proxy: str | None = field(default=None, repr=False)
    ca_file: Path | None = None


def transport_for(
    options: UploaderOptions, token: SecretStr, *, timeout: float | None = None
) -> Transport:
    """The transport these options describe, POSTing to their checked ingest URL.

    The uploader and ``check`` both build theirs here, so a PASS from ``check`` means the
    daemon's HTTP library, TLS settings and timeout get through. Raises ConfigError for a
    URL the options do not allow, or a proxy (``api.proxy``, HTTPS_PROXY ...) it cannot use.
    ``timeout`` replaces ``timeout_seconds`` (the uploader passes a backstop above its
    adaptive timeout, which it enforces itself).
    """
    url = check_url(options.url, allow_insecure_http=options.allow_insecure_http)
    return make_transport(
        options.transport,
        url,
        token,
        concurrency=options.concurrency,
        timeout=options.timeout_seconds if timeout is None else timeout,
        http2=options.http2,
        proxy=choose_proxy(url, options.proxy, os.environ),
        ca_file=options.ca_file,
    )


@dataclass(frozen=True, slots=True)
class UploaderStatus:
    """What ``serverops-agent status`` shows about sending (never the token)."""

    pending: int  # taken from the spool, not yet accepted or dead-lettered
    paused: str | None  # "unauthorized", "forbidden", "quota", "config" or None
    last_error: str | None  # the last failure, e.g. "HTTP 503 internal"
