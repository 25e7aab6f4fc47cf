"""The real agent (``run`` and ``check`` as child processes) through a real CONNECT proxy to
the real receiver serving https for ``api.test`` with a certificate from a throwaway CA.

``api.test`` resolves nowhere but in the proxy (tests/connect_proxy.py), so an entry that
arrives went through the proxy, and TLS was verified against ``api.ca_file``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import agent_process
import pytest
import trustme
from agent_process import agent_command, agent_env, run_agent, stop, wait_for
from connect_proxy import ConnectProxy
from receiver import Receiver
from tls import API_HOST, make_ca, server_context, write_ca_file

TOKEN = "so_test_proxiedtoken00"
PROXY_SECRET = "pr0xy-s3cret"
PROXY_VARS = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY")


def child_env(**extra: str) -> dict[str, str]:
    """agent_env() without the machine's proxy settings, plus ``extra``."""
    env = {k: v for k, v in agent_env().items() if k not in PROXY_VARS}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return make_ca()


@pytest.fixture
def tls_rx(ca: trustme.CA) -> Iterator[Receiver]:
    with Receiver(token=TOKEN, tls=server_context(ca), url_host=API_HOST) as rx:
        yield rx


def write_config(tmp_path: Path, url: str, api_extra: str = "") -> Path:
    lines = b"".join(b"[12:00:00] [Server thread/INFO]: line %d\n" % n for n in range(50))
    debug = '[logging]\nlevel = "debug"\n'
    return agent_process.write_config(tmp_path, url, TOKEN, lines=lines, api=api_extra, extra=debug)


def test_run_sends_through_api_proxy_to_the_tls_receiver(
    tmp_path: Path, ca: trustme.CA, tls_rx: Receiver
) -> None:
    """run: every line arrives through api.proxy (with credentials, never logged), TLS
    verified by ca_file; HTTPS_PROXY naming a dead port is overridden."""
    ca_file = write_ca_file(ca, tmp_path / "ca.pem")
    with ConnectProxy(hosts={API_HOST: "127.0.0.1"}, require_auth=f"agent:{PROXY_SECRET}") as px:
        extra = f'proxy = "{px.url_with("agent:" + PROXY_SECRET)}"\nca_file = "{ca_file}"\n'
        config = write_config(tmp_path, tls_rx.url, extra)
        agent = subprocess.Popen(
            agent_command(config),
            stderr=(tmp_path / "agent.log").open("wb"),
            stdout=subprocess.DEVNULL,
            env=child_env(HTTPS_PROXY="http://127.0.0.1:9"),
        )
        try:
            wait_for(lambda: tls_rx.state.accepted_total >= 50, "50 entries via the proxy")
        finally:
            code = stop(agent)
        assert code == 0
    log_text = (tmp_path / "agent.log").read_text()
    assert len(tls_rx.state.accepted) == 50, log_text
    assert px.connects and set(px.connects) == {f"{API_HOST}:{tls_rx.port}"}
    assert px.refused == 0
    assert PROXY_SECRET not in log_text and TOKEN not in log_text
    assert (
        f"ship.proxy: to {API_HOST}:{tls_rx.port} via proxy 127.0.0.1:{px.port} (from api.proxy)"
        in log_text
    )


def run_check(config: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent", "check", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env=child_env(**env),
    )


def test_check_probes_through_the_env_proxy_with_ca_file(
    tmp_path: Path, ca: trustme.CA, tls_rx: Receiver
) -> None:
    """check goes the daemon's way: HTTPS_PROXY, no local DNS lookup of the API, ca_file."""
    ca_file = write_ca_file(ca, tmp_path / "ca.pem")
    config = write_config(tmp_path, tls_rx.url, f'ca_file = "{ca_file}"\n')
    with ConnectProxy(hosts={API_HOST: "127.0.0.1"}) as px:
        result = run_check(config, HTTPS_PROXY=px.url)
    assert f"PASS  api proxy: via 127.0.0.1:{px.port} (from HTTPS_PROXY)" in result.stdout
    assert f"PASS  api reachable: {tls_rx.url} answered HTTP 400" in result.stdout
    assert "PASS  api token" in result.stdout, result.stdout
    assert result.returncode == 0, result.stdout + result.stderr
    assert px.connects == [f"{API_HOST}:{tls_rx.port}"]


def test_check_without_ca_file_refuses_the_private_certificate(
    tmp_path: Path, tls_rx: Receiver
) -> None:
    """Verification is on: without ca_file the throwaway CA is not trusted, and the FAIL
    names host:port, the proxy, and the key to set."""
    config = write_config(tmp_path, tls_rx.url)
    with ConnectProxy(hosts={API_HOST: "127.0.0.1"}) as px:
        result = run_check(config, https_proxy=px.url)
    assert result.returncode == 1
    assert (
        f"FAIL  api reachable: {tls_rx.url}: cannot connect to {API_HOST}:{tls_rx.port} "
        f"through proxy 127.0.0.1:{px.port}: TLS certificate not trusted"
    ) in result.stdout, result.stdout
    assert "api.ca_file" in result.stdout
    assert tls_rx.state.requests == 0


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (None, "cannot read"),
        ("not a certificate\n", "holds no PEM certificate"),
        ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "not a valid PEM"),
    ],
)
def test_a_bad_ca_file_is_a_config_error(tmp_path: Path, content: str | None, why: str) -> None:
    """run and check exit 2 naming api.ca_file, before anything starts."""
    ca_file = tmp_path / "ca.pem"
    if content is not None:
        ca_file.write_text(content)
    config = write_config(tmp_path, f"https://{API_HOST}", f'ca_file = "{ca_file}"\n')
    for result in (run_agent(config), run_check(config)):
        output = result.stdout + result.stderr
        assert result.returncode == 2, output
        assert "api.ca_file" in output and why in output and "Traceback" not in output


def test_a_bad_proxy_is_a_config_error_without_its_password(tmp_path: Path) -> None:
    """api.proxy = socks5://...: exit 2 naming the key; the URL (and password) not repeated."""
    extra = f'proxy = "socks5://agent:{PROXY_SECRET}@127.0.0.1:1080"\n'
    config = write_config(tmp_path, f"https://{API_HOST}", extra)
    result = run_agent(config)
    assert result.returncode == 2
    assert "api.proxy" in result.stderr and "socks5:// proxies are not supported" in result.stderr
    assert PROXY_SECRET not in result.stderr


def test_an_unusable_env_proxy_stops_run_with_exit_2(tmp_path: Path) -> None:
    """HTTPS_PROXY=socks5://...: said at start, naming the variable, not ignored silently."""
    config = write_config(tmp_path, f"https://{API_HOST}")
    result = subprocess.run(
        agent_command(config),
        capture_output=True,
        text=True,
        timeout=60,
        env=child_env(HTTPS_PROXY=f"socks5://agent:{PROXY_SECRET}@127.0.0.1:1080"),
    )
    assert result.returncode == 2, result.stderr
    assert "HTTPS_PROXY: socks5:// proxies are not supported" in result.stderr
    assert PROXY_SECRET not in result.stderr
