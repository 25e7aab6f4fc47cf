"""Which proxy the agent uses (agent/ship/proxy.py): env names, NO_PROXY, api.proxy, loopback."""

from __future__ import annotations

import pytest

from agent.errors import ConfigError
from agent.ship.proxy import bypasses, check_proxy_url, choose_proxy

API = "https://api.example.com"


def chosen(url: str = API, explicit: str | None = None, **env: str) -> str | None:
    choice = choose_proxy(url, explicit, env)
    return None if choice is None else f"{choice.url} ({choice.source})"


def test_https_api_uses_https_proxy_in_either_case() -> None:
    assert chosen(HTTPS_PROXY="http://p:3128") == "http://p:3128 (HTTPS_PROXY)"
    assert chosen(https_proxy="http://p:3128") == "http://p:3128 (https_proxy)"


def test_lower_case_wins_when_both_are_set() -> None:
    """As curl and Python do."""
    assert chosen(https_proxy="http://low:1", HTTPS_PROXY="http://up:2") == (
        "http://low:1 (https_proxy)"
    )


def test_http_api_uses_http_proxy_only() -> None:
    url = "http://api.example.com"
    assert chosen(url, HTTP_PROXY="http://p:3128") == "http://p:3128 (HTTP_PROXY)"
    assert chosen(url, HTTPS_PROXY="http://p:3128") is None
    assert chosen(API, HTTP_PROXY="http://p:3128") is None


def test_no_proxy_set_means_direct() -> None:
    assert chosen() is None
    assert chosen(HTTPS_PROXY="") is None
    assert chosen(ALL_PROXY="http://p:3128") is None  # not read (documented)


def test_a_value_without_scheme_is_an_http_proxy() -> None:
    assert chosen(HTTPS_PROXY="p.corp:3128") == "http://p.corp:3128 (HTTPS_PROXY)"


@pytest.mark.parametrize(
    ("no_proxy", "host", "port", "bypass"),
    [
        ("*", "api.example.com", 443, True),
        ("example.com", "api.example.com", 443, True),
        ("example.com", "example.com", 443, True),
        ("example.com", "notexample.com", 443, False),
        (".example.com", "api.example.com", 443, True),
        (".example.com", "example.com", 443, True),  # curl: the leading dot is ignored
        ("*.example.com", "api.example.com", 443, True),
        ("other.org, example.com", "api.example.com", 443, True),
        ("other.org example.com", "api.example.com", 443, True),
        ("EXAMPLE.COM", "Api.Example.Com", 443, True),
        ("example.com:443", "api.example.com", 443, True),
        ("example.com:8443", "api.example.com", 443, False),
        ("10.1.2.3", "10.1.2.3", 443, True),
        ("10.1.2.3", "10.1.2.30", 443, False),
        ("10.0.0.0/8", "10.1.2.3", 443, True),
        ("10.0.0.0/8", "11.1.2.3", 443, False),
        ("10.0.0.0/8", "api.example.com", 443, False),
        ("2001:db8::1", "2001:db8::1", 443, True),
        ("[2001:db8::1]:443", "2001:db8::1", 443, True),
        ("[2001:db8::1]:80", "2001:db8::1", 443, False),
        ("", "api.example.com", 443, False),
        (",,", "api.example.com", 443, False),
    ],
)
def test_no_proxy_rules(no_proxy: str, host: str, port: int, bypass: bool) -> None:
    """curl/Go semantics: suffixes, '*', IPs, CIDR blocks, ports."""
    assert bypasses(host, port, no_proxy) is bypass


def test_no_proxy_in_either_case_applies_to_env_proxies() -> None:
    proxy = {"HTTPS_PROXY": "http://p:3128"}
    assert chosen(**proxy, NO_PROXY="example.com") is None
    assert chosen(**proxy, no_proxy="example.com") is None
    assert chosen(**proxy, NO_PROXY="example.com:8443") is not None  # API is on 443


def test_api_proxy_wins_over_the_environment_and_ignores_no_proxy() -> None:
    env = {"HTTPS_PROXY": "http://env:1", "NO_PROXY": "*"}
    assert chosen(API, "http://cfg:2", **env) == "http://cfg:2 (api.proxy)"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "https://localhost:8443", "http://[::1]"])
def test_a_loopback_api_is_never_proxied(url: str) -> None:
    """Plain http is allowed to loopback because it never leaves the host: keep it so."""
    assert chosen(url, "http://cfg:2", HTTPS_PROXY="http://p:1", HTTP_PROXY="http://p:1") is None


def test_unsupported_proxy_scheme_is_a_config_error_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="HTTPS_PROXY: socks5:// proxies are not supported"):
        chosen(HTTPS_PROXY="socks5://u:secret@p:1080")


def test_proxy_errors_never_repeat_the_url() -> None:
    """The URL may hold a password."""
    for bad in ("socks5://u:secret@p:1080", "http://u:secret@p:notaport", "http://u:secret@"):
        with pytest.raises(ConfigError) as caught:
            check_proxy_url(bad, "api.proxy")
        assert "secret" not in str(caught.value)


def test_the_choice_shows_host_and_port_never_credentials() -> None:
    choice = choose_proxy(API, "http://user:s3cret@proxy.corp:3128", {})
    assert choice is not None
    assert choice.display() == "proxy.corp:3128 (from api.proxy)"
    assert "s3cret" not in repr(choice) and "s3cret" not in choice.display()
    https_default = choose_proxy(API, "https://proxy.corp", {})
    assert https_default is not None and https_default.host_port == "proxy.corp:443"
