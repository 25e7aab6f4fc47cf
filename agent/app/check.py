"""``serverops-agent check``: is this host ready to ship? A pass/fail list, nothing sent.

Checks, each independent so one failure does not hide the others:
config valid; the servers each ``log`` glob matches (path and id); each server's log
readable (or its directory, if the server has not started yet); the state directory
writable; a token that passes the daemon's own rule
(:func:`agent.ship.auth.validate_token`), with the source it was read from named
(``--token-file``, the systemd credential in ``$CREDENTIALS_DIRECTORY``, or what ``run``
reads); the API reachable (DNS, TCP, TLS with certificate verification) and the token
accepted. Behind a proxy (``api.proxy``, or HTTPS_PROXY/HTTP_PROXY from the environment
``check`` runs in, which may differ from the service's) the check names it and skips the
local DNS lookup, as the proxy resolves the API's name.

The token is tested without storing anything: an empty JSON object is POSTed to
``/logs``. The API requires ``level`` and ``message``, so a valid token gets
``bad_request`` and an invalid one ``unauthorized``/``forbidden``; no entry is created.
The probe goes through the daemon's own transport (agent/ship/transport.py, built from
the same options by :func:`agent.app.wiring.uploader_options`), so a PASS means the
daemon's HTTP library, TLS settings and timeout get through too.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import SecretStr

from agent.app.apitoken import TOKEN_ENV, read_token, read_token_file, token_source_description
from agent.app.config import AgentConfig
from agent.app.wiring import uploader_options
from agent.errors import AgentError, ConfigError, RetryableShipError
from agent.ship.auth import validate_token
from agent.ship.options import transport_for
from agent.ship.proxy import choose_proxy
from agent.ship.retry import parse_error
from agent.ship.transport import Answer, Transport
from agent.sources import globs
from agent.state.statedir import ensure_state_dir


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One line of the check list."""

    name: str
    ok: bool
    detail: str
    warning: bool = False  # passed, but worth the operator's attention


CREDENTIALS_ENV = "CREDENTIALS_DIRECTORY"  # set by systemd for a unit with LoadCredential=
CREDENTIAL_NAME = "token"  # LoadCredential=token:/etc/serverops-agent/token (systemd/)
STDIN_PATH = Path("-")


def run_checks(
    config: AgentConfig, *, transport: Transport | None = None, token_file: Path | None = None
) -> list[CheckResult]:
    """Run every check; never raises for a failing check. ``transport`` replaces the
    daemon's (and the DNS lookup) in tests; ``token_file`` (``--token-file``, ``-`` for
    standard input) replaces the config's token source."""
    results = [CheckResult("config", True, "valid")]
    results += _check_servers(config)
    if not config.servers:
        results.append(CheckResult("servers", False, "no [[servers]] configured"))
    results.append(_check_state_dir(config.state.dir))
    token_result, token = _check_token(config, token_file)
    results.append(token_result)
    results += _check_api(config, token, transport)
    return results


def _check_servers(config: AgentConfig) -> list[CheckResult]:
    """Each glob's matches (paths and ids), then each server found, as the daemon would."""
    expansion = globs.expand([(server.id, server.log) for server in config.servers])
    results = []
    for table, server in enumerate(config.servers):
        if not globs.is_glob(server.log):
            continue
        found = [f"{m.server_id} ({m.path})" for m in expansion.matches if m.table == table]
        detail = f"{server.log}: {len(found)} server(s) found"
        if not found:
            detail += "; servers that appear later are found while the agent runs"
        results.append(
            CheckResult(f"servers.{table}", True, "; ".join([detail, *found]), warning=not found)
        )
    results += [_check_log(match.server_id, match.path) for match in expansion.matches]
    results += [
        CheckResult(f"log {m.path}", False, f"id {m.server_id!r} is not a valid server id")
        for m in expansion.invalid
    ]
    return results


def _check_log(server_id: str, log: Path) -> CheckResult:
    name = f"log {server_id}"
    if log.is_file():
        if os.access(log, os.R_OK):
            return CheckResult(name, True, f"{log} readable")
        return CheckResult(name, False, f"{log} exists but is not readable by this user")
    if log.parent.is_dir() and os.access(log.parent, os.R_OK | os.X_OK):
        return CheckResult(
            name, True, f"{log} not there yet (the server has not started?)", warning=True
        )
    return CheckResult(name, False, f"{log}: neither the file nor its directory is readable")


def _check_state_dir(state_dir: Path) -> CheckResult:
    try:
        ensure_state_dir(state_dir)
        with tempfile.NamedTemporaryFile(dir=state_dir, prefix=".check-"):
            pass
    except AgentError as exc:  # cannot be created
        return CheckResult("state dir", False, str(exc))
    except OSError as exc:
        return CheckResult("state dir", False, f"{state_dir} not writable: {exc.strerror}")
    mode = state_dir.stat().st_mode & 0o777
    if mode & 0o007:
        return CheckResult(
            "state dir", True, f"{state_dir} writable but readable by others", warning=True
        )
    return CheckResult("state dir", True, f"{state_dir} writable")


def _check_token(
    config: AgentConfig, token_file: Path | None
) -> tuple[CheckResult, SecretStr | None]:
    """The token by the daemon's own rule (agent/ship/auth.py), from the source named."""
    try:
        token, source = _load_token(config, token_file)
    except ConfigError as exc:
        hint = ""
        if token_file is None:
            hint = (
                "; outside the service, pass the token with --token-file PATH"
                " (or --token-file - on standard input)"
            )
        return CheckResult("token", False, f"{exc}{hint}"), None
    kind = "live" if token.get_secret_value().startswith("so_live_") else "test"
    return CheckResult("token", True, f"{kind} token from {source}"), token


def _load_token(config: AgentConfig, token_file: Path | None) -> tuple[SecretStr, str]:
    """The token and where it came from: ``--token-file``; else what ``run`` reads, with
    the systemd credential (``$CREDENTIALS_DIRECTORY/token``) standing in for
    ``api.token_file``, whose /run/credentials/ path exists only inside the service."""
    if token_file == STDIN_PATH:
        source = "--token-file - (standard input)"
        return validate_token(sys.stdin.read(), source), source
    if token_file is not None:
        return read_token_file(token_file, "--token-file"), f"--token-file {token_file}"
    credentials = os.environ.get(CREDENTIALS_ENV)
    if credentials and os.environ.get(TOKEN_ENV) is None:
        path = Path(credentials) / CREDENTIAL_NAME
        if path.exists():
            source = f"systemd credential {path} (${CREDENTIALS_ENV})"
            return read_token_file(path, "systemd credential"), source
    return read_token(config.api), token_source_description(config.api)


def _check_api(
    config: AgentConfig, token: SecretStr | None, transport: Transport | None
) -> list[CheckResult]:
    url = config.api.url
    results: list[CheckResult] = []
    if transport is None:
        route = _check_route(config)
        if route is not None:
            if not route.ok:
                return [route]
            results.append(route)
        try:
            # No token: no Authorization header, reachability only.
            transport = transport_for(uploader_options(config), token or SecretStr(""))
        except ConfigError as exc:
            return [CheckResult("api url", False, str(exc))]
    try:
        answer = asyncio.run(_probe(transport))
    except RetryableShipError as exc:
        # The transport's message names host:port, the proxy and the cause; never the
        # library's own text (it can quote the proxy URL with its password) or headers.
        return [*results, CheckResult("api reachable", False, f"{url}: {exc}")]
    results.append(CheckResult("api reachable", True, f"{url} answered HTTP {answer.status}"))
    if token is not None:
        results.append(_token_verdict(answer))
    return results


def _check_route(config: AgentConfig) -> CheckResult | None:
    """The proxy in use (a PASS), a FAIL (an unusable proxy setting, or the API's name does
    not resolve here), or None: a direct connection, and the name resolves."""
    url = config.api.url
    try:
        proxy = choose_proxy(url, config.api.proxy, os.environ)
    except ConfigError as exc:
        return CheckResult("api proxy", False, str(exc))
    if proxy is not None:  # the proxy resolves the API's name, not this host
        return CheckResult("api proxy", True, f"via {proxy.display()}")
    host = urlsplit(url).hostname or ""
    port = urlsplit(url).port or (443 if url.startswith("https") else 80)
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return CheckResult("api dns", False, f"{host}: {exc}")
    return None


async def _probe(transport: Transport) -> Answer:
    """POST ``{}`` once (a fresh Idempotency-Key: nothing to deduplicate), then close."""
    try:
        return await transport.post(b"{}", f"check-{uuid.uuid4().hex}")
    finally:
        await transport.aclose()


_VERDICTS: dict[str, Callable[[dict], CheckResult]] = {
    "bad_request": lambda _: CheckResult("api token", True, "accepted (probe stored nothing)"),
    "unauthorized": lambda e: CheckResult("api token", False, f"rejected: {e.get('message')}"),
    "forbidden": lambda e: CheckResult(
        "api token", False, f"lacks the scope logs:write: {e.get('message')}"
    ),
    "quota_exceeded": lambda e: CheckResult(
        "api token", True, f"accepted, but the quota is used up: {e.get('message')}", True
    ),
}


def _token_verdict(answer: Answer) -> CheckResult:
    error = parse_error(answer.body) or {}
    verdict = _VERDICTS.get(str(error.get("code")))
    if verdict is not None:
        return verdict(error)
    return CheckResult(
        "api token",
        False,
        f"unexpected answer HTTP {answer.status} (is api.url the ServerOps API?)",
    )


def format_results(results: list[CheckResult]) -> str:
    """One line per check: ``PASS``/``WARN``/``FAIL`` name: detail."""
    marks = {(True, False): "PASS", (True, True): "WARN", (False, False): "FAIL"}
    return "\n".join(f"{marks[(r.ok, r.warning and r.ok)]}  {r.name}: {r.detail}" for r in results)
