"""The HTTP transports: request shape (respx), error translation, URL rules, token hygiene."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
import pytest
import respx
from pydantic import SecretStr
from receiver import Receiver

from agent.errors import ConfigError, RetryableShipError
from agent.ship.auth import static_token
from agent.ship.transport import AiohttpTransport, HttpxTransport
from agent.ship.uploader import Uploader, UploaderOptions
from agent.ship.urls import check_url
from agent.state.deadletter import DeadLetterFile
from agent.state.spool import Spool, SpoolOptions
from agent.testing import make_records

TOKEN = "so_test_secret123456"
URL = "https://api.example.test/logs"


def post(transport: HttpxTransport | AiohttpTransport, body: bytes, key: str):
    async def main():
        try:
            return await transport.post(body, key)
        finally:
            await transport.aclose()

    return asyncio.run(main())


@respx.mock
def test_httpx_request_carries_token_key_and_body() -> None:
    """One POST /logs with Bearer token, JSON content type, Idempotency-Key and the body."""
    route = respx.post(URL).mock(return_value=httpx.Response(201, json={"id": "1"}))
    answer = post(HttpxTransport(URL, SecretStr(TOKEN), concurrency=2, timeout=5), b"{}", "k1")
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Idempotency-Key"] == "k1"
    assert request.headers["Content-Type"] == "application/json"
    assert request.content == b"{}"
    assert (answer.status, answer.body) == (201, b'{"id":"1"}')


@respx.mock
def test_an_empty_token_sends_no_authorization_header() -> None:
    """check probes reachability without a token: no ``Bearer`` header at all."""
    route = respx.post(URL).mock(return_value=httpx.Response(401))
    post(HttpxTransport(URL, SecretStr(""), concurrency=1, timeout=5), b"{}", "k")
    assert "Authorization" not in route.calls.last.request.headers


@respx.mock
def test_httpx_answer_keeps_status_retry_after_and_body() -> None:
    """Error answers come back as data, Retry-After included, for the retry rule to read."""
    respx.post(URL).mock(return_value=httpx.Response(429, headers={"Retry-After": "12"}))
    answer = post(HttpxTransport(URL, SecretStr(TOKEN), concurrency=1, timeout=5), b"{}", "k")
    assert (answer.status, answer.retry_after) == (429, "12")


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("x")],
)
@respx.mock
def test_httpx_errors_become_transient_without_the_token(error: Exception) -> None:
    """Library errors are translated into RetryableShipError, whose text has no token."""
    respx.post(URL).mock(side_effect=error)
    with pytest.raises(RetryableShipError) as caught:
        post(HttpxTransport(URL, SecretStr(TOKEN), concurrency=1, timeout=5), b"{}", "k")
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value)


def test_aiohttp_connection_refused_is_transient() -> None:
    """A refused connection is a RetryableShipError (port 9 on loopback has no listener)."""
    transport = AiohttpTransport(
        "http://127.0.0.1:9/logs", SecretStr(TOKEN), concurrency=1, timeout=5
    )
    with pytest.raises(RetryableShipError):
        post(transport, b"{}", "k")


@pytest.mark.parametrize(
    ("url", "insecure", "ok"),
    [
        ("https://api.serverops.example", False, True),
        ("http://127.0.0.1:8080", False, True),
        ("http://localhost:8080/", False, True),
        ("http://[::1]:8080", False, True),
        ("http://api.serverops.example", False, False),
        ("http://api.serverops.example", True, True),
        ("ftp://api.serverops.example", True, False),
    ],
)
def test_https_is_required_unless_loopback_or_allowed(url: str, insecure: bool, ok: bool) -> None:
    """Plain http only to loopback or with allow_insecure_http; the URL gets /logs."""
    if ok:
        assert check_url(url, allow_insecure_http=insecure).endswith("/logs")
    else:
        with pytest.raises(ConfigError):
            check_url(url, allow_insecure_http=insecure)


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_debug_logging_of_http_libraries_never_shows_the_token(
    transport: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With httpx/httpcore/aiohttp at DEBUG, a real exchange logs no token or header."""
    spool = Spool(SpoolOptions(tmp_path / "spool.sqlite3"))
    spool.append(make_records(5), None)
    with Receiver(token=TOKEN) as rx, caplog.at_level(logging.DEBUG):
        for name in ("httpx", "httpcore", "aiohttp", "asyncio", "agent"):
            logging.getLogger(name).setLevel(logging.DEBUG)
        uploader = Uploader(
            spool,
            UploaderOptions(rx.url, transport=transport),  # type: ignore[arg-type]
            static_token(TOKEN),
            dead_letters=DeadLetterFile(tmp_path / "dead.ndjson"),
        )
        asyncio.run(asyncio.wait_for(uploader.run(until_empty=True), 30))
        assert rx.state.accepted_total == 5
    assert caplog.records  # the libraries did log something
    assert TOKEN not in caplog.text
    assert "Bearer" not in caplog.text


def test_http2_without_h2_is_a_config_error() -> None:
    """Asking for HTTP/2 without the h2 package fails at startup with a clear message."""
    try:
        import h2  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match="h2"):
            HttpxTransport(URL, SecretStr(TOKEN), concurrency=1, timeout=5, http2=True)
    else:
        pytest.skip("h2 is installed here")
