"""Both transports through a real CONNECT proxy to a real TLS receiver with a private CA.

The receiver (tests/receiver.py) serves https for ``api.test`` with a certificate from a
throwaway CA (tests/tls.py); the proxy (tests/connect_proxy.py) resolves ``api.test`` to
127.0.0.1, so a request that gets there went through the proxy, and records what it saw.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from connect_proxy import ConnectProxy
from pydantic import SecretStr
from receiver import Receiver
from tls import API_HOST, make_ca, server_context, write_ca_file

from agent.errors import RetryableShipError
from agent.ship.options import UploaderOptions, transport_for
from agent.ship.transport import Answer
from agent.testing import make_records

TOKEN = "so_test_networktoken00"
TRANSPORTS = ["aiohttp", "httpx"]
PROXY_VARS = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy settings from the machine running the tests."""
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return make_ca()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    return write_ca_file(ca, tmp_path / "ca.pem")


@pytest.fixture
def tls_rx(ca: trustme.CA) -> Iterator[Receiver]:
    with Receiver(token=TOKEN, tls=server_context(ca), url_host=API_HOST) as rx:
        yield rx


@pytest.fixture
def proxy() -> Iterator[ConnectProxy]:
    with ConnectProxy(hosts={API_HOST: "127.0.0.1"}) as running:
        yield running


def send_one(options: UploaderOptions) -> Answer:
    """One real entry through the transport these options describe (as uploader and check)."""
    record = next(iter(make_records(1)))

    async def main() -> Answer:
        transport = transport_for(options, SecretStr(TOKEN))
        try:
            return await transport.post(record.body, record.event_id)
        finally:
            await transport.aclose()

    return asyncio.run(asyncio.wait_for(main(), 30))


@pytest.mark.parametrize("name", TRANSPORTS)
def test_env_https_proxy_is_used_with_ca_file(
    name: str, tls_rx: Receiver, proxy: ConnectProxy, ca_file: Path, monkeypatch
) -> None:
    """HTTPS_PROXY carries the request (a CONNECT to api.test), TLS verified by ca_file."""
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    answer = send_one(UploaderOptions(tls_rx.url, transport=name, ca_file=ca_file))
    assert answer.status == 201
    assert proxy.connects == [f"{API_HOST}:{tls_rx.port}"]
    assert tls_rx.state.accepted_total == 1


@pytest.mark.parametrize("name", TRANSPORTS)
def test_lower_case_https_proxy_is_used(
    name: str, tls_rx: Receiver, proxy: ConnectProxy, ca_file: Path, monkeypatch
) -> None:
    monkeypatch.setenv("https_proxy", proxy.url)
    assert send_one(UploaderOptions(tls_rx.url, transport=name, ca_file=ca_file)).status == 201
    assert len(proxy.connects) == 1


@pytest.mark.parametrize("name", TRANSPORTS)
def test_no_proxy_bypasses_the_env_proxy(
    name: str, tls_rx: Receiver, proxy: ConnectProxy, ca_file: Path, monkeypatch
) -> None:
    """NO_PROXY=.test: the agent connects directly (and must then resolve api.test itself,
    which nothing does: the failure names the API, not the proxy), the proxy sees nothing."""
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "localhost,.test")
    with pytest.raises(RetryableShipError) as caught:
        send_one(UploaderOptions(tls_rx.url, transport=name, ca_file=ca_file))
    assert proxy.connects == [] and proxy.auth == []
    assert f"cannot connect to {API_HOST}:{tls_rx.port}: " in str(caught.value)
    assert "through proxy" not in str(caught.value)


@pytest.mark.parametrize("name", TRANSPORTS)
def test_api_proxy_wins_over_env_and_no_proxy(
    name: str, tls_rx: Receiver, proxy: ConnectProxy, ca_file: Path, monkeypatch
) -> None:
    """api.proxy is used although HTTPS_PROXY names another (dead) proxy and NO_PROXY=*."""
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "*")
    options = UploaderOptions(tls_rx.url, transport=name, ca_file=ca_file, proxy=proxy.url)
    assert send_one(options).status == 201
    assert proxy.connects == [f"{API_HOST}:{tls_rx.port}"]


@pytest.mark.parametrize("name", TRANSPORTS)
def test_proxy_credentials_are_sent_on_the_connect(
    name: str, tls_rx: Receiver, ca_file: Path
) -> None:
    """user:pass in api.proxy becomes Proxy-Authorization on the CONNECT."""
    with ConnectProxy(hosts={API_HOST: "127.0.0.1"}, require_auth="agent:s3cret") as proxy:
        options = UploaderOptions(
            tls_rx.url, transport=name, ca_file=ca_file, proxy=proxy.url_with("agent:s3cret")
        )
        assert send_one(options).status == 201
    assert proxy.refused == 0 and proxy.auth[0] == "Basic YWdlbnQ6czNjcmV0"


@pytest.mark.parametrize("name", TRANSPORTS)
def test_a_refused_connect_names_api_and_proxy_never_the_credentials(
    name: str, tls_rx: Receiver, ca_file: Path
) -> None:
    """407 from the proxy: the message names both ends and the status, not user:pass."""
    with ConnectProxy(hosts={API_HOST: "127.0.0.1"}, require_auth="agent:right") as proxy:
        options = UploaderOptions(
            tls_rx.url, transport=name, ca_file=ca_file, proxy=proxy.url_with("agent:wr0ng")
        )
        with pytest.raises(RetryableShipError) as caught:
            send_one(options)
    message = str(caught.value)
    assert message.startswith(
        f"cannot connect to {API_HOST}:{tls_rx.port} through proxy 127.0.0.1:{proxy.port}: "
    )
    assert "407" in message
    assert "wr0ng" not in message and "agent" not in message
    assert "wr0ng" not in repr(options) and "wr0ng" not in repr(
        transport_for(options, SecretStr(""))
    )


@pytest.mark.parametrize("name", TRANSPORTS)
def test_without_ca_file_the_private_certificate_is_refused(
    name: str, tls_rx: Receiver, proxy: ConnectProxy, monkeypatch
) -> None:
    """Verification stays on: the system store does not know the throwaway CA."""
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    with pytest.raises(RetryableShipError) as caught:
        send_one(UploaderOptions(tls_rx.url, transport=name))
    assert "TLS certificate not trusted" in str(caught.value)
    assert "api.ca_file" in str(caught.value)
    assert tls_rx.state.requests == 0


@pytest.mark.parametrize("name", TRANSPORTS)
def test_a_certificate_for_another_name_is_refused(
    name: str, ca: trustme.CA, proxy: ConnectProxy, ca_file: Path, monkeypatch
) -> None:
    """ca_file adds trust in the CA; the host name is still checked."""
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    context = server_context(ca, "other.test")
    with (
        Receiver(token=TOKEN, tls=context, url_host=API_HOST) as rx,
        pytest.raises(RetryableShipError, match="TLS certificate not trusted"),
    ):
        send_one(UploaderOptions(rx.url, transport=name, ca_file=ca_file))


@pytest.mark.parametrize("name", TRANSPORTS)
def test_http_proxy_forwards_an_http_api(name: str, proxy: ConnectProxy, monkeypatch) -> None:
    """An http API (allow_insecure_http) goes through HTTP_PROXY, not HTTPS_PROXY."""
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    with Receiver(token=TOKEN, url_host=API_HOST) as rx:
        answer = send_one(UploaderOptions(rx.url, transport=name, allow_insecure_http=True))
        assert answer.status == 201
    assert proxy.forwards == [f"{API_HOST}:{rx.port}"] and proxy.connects == []


@pytest.mark.parametrize("name", TRANSPORTS)
def test_a_loopback_api_ignores_env_proxies(name: str, monkeypatch) -> None:
    """The receiver on 127.0.0.1 is reached directly although HTTP_PROXY names a dead port."""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    with Receiver(token=TOKEN) as rx:
        assert send_one(UploaderOptions(rx.url, transport=name)).status == 201


@pytest.mark.parametrize("name", TRANSPORTS)
def test_connection_refused_names_host_and_port(name: str) -> None:
    """Item 9b: 'cannot connect to 127.0.0.1:9: Connection refused' (port 9: no listener)."""
    with pytest.raises(RetryableShipError) as caught:
        send_one(UploaderOptions("http://127.0.0.1:9", transport=name))
    assert str(caught.value) == "cannot connect to 127.0.0.1:9: Connection refused"


@pytest.mark.parametrize("name", TRANSPORTS)
def test_a_dead_proxy_is_named_with_the_api(name: str, tls_rx: Receiver, ca_file: Path) -> None:
    options = UploaderOptions(
        tls_rx.url, transport=name, ca_file=ca_file, proxy="http://127.0.0.1:9"
    )
    with pytest.raises(RetryableShipError) as caught:
        send_one(options)
    assert str(caught.value) == (
        f"cannot connect to {API_HOST}:{tls_rx.port} through proxy 127.0.0.1:9: Connection refused"
    )


@pytest.mark.parametrize("name", TRANSPORTS)
def test_an_unreachable_target_behind_the_proxy(name: str, proxy: ConnectProxy) -> None:
    """The proxy answers 502 to a CONNECT it cannot complete; the message says so."""
    options = UploaderOptions("https://api.test:9", transport=name, proxy=proxy.url)
    with pytest.raises(RetryableShipError) as caught:
        send_one(options)
    assert str(caught.value) == (
        f"cannot connect to api.test:9 through proxy 127.0.0.1:{proxy.port}: "
        "the proxy answered 502 Bad Gateway"
    )


@pytest.mark.parametrize("name", TRANSPORTS)
def test_an_https_proxy_is_trusted_through_ca_file(
    name: str, ca: trustme.CA, tls_rx: Receiver, ca_file: Path
) -> None:
    """An https:// proxy (TLS to the proxy, TLS inside the tunnel): both verified by ca_file."""
    context = server_context(ca, "127.0.0.1")
    with ConnectProxy(hosts={API_HOST: "127.0.0.1"}, tls=context) as proxy:
        options = UploaderOptions(tls_rx.url, transport=name, ca_file=ca_file, proxy=proxy.url)
        assert send_one(options).status == 201
    assert proxy.url.startswith("https://") and len(proxy.connects) == 1
