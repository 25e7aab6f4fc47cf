"""HTTP/2 vs HTTP/1.1 through HttpxTransport, both over verified TLS, same local server.

    .venv/bin/pip install 'h2>=4,<5' hypercorn     # measuring only
    .venv/bin/python bench/ship_http2.py --entries 20000 --concurrency 8

A throwaway self-signed certificate for 127.0.0.1 is made with the ``openssl`` CLI in a
temp dir; the client trusts exactly that certificate (TLS stays verified). The server is
hypercorn (a separate process, ALPN h2 + http/1.1) running a minimal ASGI POST /logs.
Each run fills a spool with the same entries and drains it with the real Uploader; CPU is
this (agent) process only, ``time.process_time`` over the drain.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.ship.auth import static_token  # noqa: E402
from agent.ship.transport import HttpxTransport  # noqa: E402
from agent.ship.uploader import Uploader, UploaderOptions  # noqa: E402
from agent.state.deadletter import DeadLetterFile  # noqa: E402
from agent.state.spool import Spool, SpoolOptions  # noqa: E402
from agent.testing import make_records  # noqa: E402

TOKEN = "so_test_bench0000000"
HOST = "127.0.0.1"
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """ASGI POST /logs: 201 with a small JSON body when the bearer token matches."""
    if scope["type"] != "http":  # lifespan: nothing to set up
        return
    while (await receive()).get("more_body"):  # drain the request body
        pass
    auth = dict(scope["headers"]).get(b"authorization", b"")
    if scope["path"] != "/logs" or scope["method"] != "POST":
        status, body = 404, b'{"error":"not found"}'
    elif auth != f"Bearer {TOKEN}".encode():
        status, body = 401, b'{"error":"unauthorized"}'
    else:
        status, body = 201, b'{"status":"accepted"}'
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def serve(port: int, cert: str, key: str) -> None:
    """Run hypercorn with TLS on 127.0.0.1:port until terminated."""
    from hypercorn.asyncio import serve as hypercorn_serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"{HOST}:{port}"]
    config.certfile, config.keyfile = cert, key
    config.lifespan = "off"
    asyncio.run(hypercorn_serve(app, config))  # type: ignore[arg-type]


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A one-day self-signed certificate for 127.0.0.1 (cert, key) in directory."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt"]
    command += ["ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", f"/CN={HOST}"]
    command += ["-addext", f"subjectAltName=IP:{HOST}", "-keyout", str(key), "-out", str(cert)]
    subprocess.run(command, check=True, capture_output=True)
    return cert, key


def free_port() -> int:
    """A port the kernel says is free on 127.0.0.1 (the server binds it just after)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def start_server(cert: Path, key: str | Path) -> tuple[subprocess.Popen[bytes], int]:
    """The hypercorn process and its port, once it accepts connections (bounded wait)."""
    port = free_port()
    command = [sys.executable, __file__, "serve", "--port", str(port)]
    # stderr dropped: hypercorn prints a traceback for every TLS close_notify race when
    # the client closes its pool; the client side counts any real failure (ship.degraded).
    proc = subprocess.Popen(
        [*command, "--cert", str(cert), "--key", str(key)], stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=0.5).close()
            return proc, port
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    proc.terminate()
    raise SystemExit("hypercorn did not start")


def drain(url: str, context: ssl.SSLContext, http2: bool, args: argparse.Namespace) -> str:
    """Fill a spool with args.entries, drain it over HttpxTransport; one result line."""
    tmp = Path(tempfile.mkdtemp())
    spool = Spool(SpoolOptions(tmp / "spool.sqlite3"))
    spool.append(make_records(args.entries), None)
    options = UploaderOptions(url, transport="httpx", concurrency=args.concurrency)
    transport = HttpxTransport(
        f"{url}/logs",
        SecretStr(TOKEN),
        concurrency=args.concurrency,
        timeout=10,
        http2=http2,
        verify=context,
    )
    dead = DeadLetterFile(tmp / "dead.ndjson")
    uploader = Uploader(spool, options, static_token(TOKEN), dead_letters=dead, transport=transport)
    cpu0, t0 = time.process_time(), time.perf_counter()
    asyncio.run(uploader.run(until_empty=True))
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    left = spool.stats().depth
    shutil.rmtree(tmp)
    if left:
        raise SystemExit(f"{left} entries were not accepted")
    return (
        f"httpx http2={http2} concurrency={args.concurrency} TLS: {args.entries} entries "
        f"in {elapsed:.2f} s = {args.entries / elapsed:,.0f} entries/s; "
        f"CPU {cpu:.2f} s = {cpu / args.entries * 1e6:.0f} µs/entry"
    )


def negotiated(url: str, context: ssl.SSLContext, http2: bool) -> str:
    """The HTTP version one request actually used (proves ALPN picked h2 when asked)."""
    import httpx

    with httpx.Client(http2=http2, verify=context) as client:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        response = client.post(f"{url}/logs", content=b"{}", headers=headers)
    return f"{response.status_code} {response.http_version}"


def bench(args: argparse.Namespace) -> None:
    """Start the TLS server, run HTTP/2 and HTTP/1.1 alternately, stop the server."""
    tmp = Path(tempfile.mkdtemp())
    cert, key = make_certificate(tmp)
    context = ssl.create_default_context(cafile=str(cert))  # verified, trusts only this cert
    proc, port = start_server(cert, key)
    url = f"https://{HOST}:{port}"
    try:
        for _ in range(args.rounds):
            for http2 in (True, False):
                print(f"probe http2={http2}: {negotiated(url, context, http2)}")
                print(drain(url, context, http2, args), flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(tmp)


def main() -> None:
    """Parse arguments; run the benchmark (or the server, in the child process)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", nargs="?", choices=["bench", "serve"], default="bench")
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1, help="alternating h2/h1.1 pairs")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert", default="")
    parser.add_argument("--key", default="")
    args = parser.parse_args()
    if args.mode == "serve":
        serve(args.port, args.cert, args.key)
    else:
        bench(args)


if __name__ == "__main__":
    main()
