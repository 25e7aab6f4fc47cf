"""CPU per request of each HTTP transport alone: N POSTs at a concurrency, to bench/receiver.py.

    .venv/bin/python bench/transport.py --requests 20000 --rounds 2
    .venv/bin/python bench/transport.py --transports http1 aiohttp --loop uvloop

The receiver runs as its own process, so "CPU" (``time.process_time``) is this process
only: the transport (agent/ship/transport.py, agent/ship/http1.py) and the event loop,
without the spool or the uploader's bookkeeping (bench/ship.py measures those together).
Transports alternate within a round, so a loaded machine slows them alike.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from pathlib import Path

from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.ship.transport import make_transport  # noqa: E402

TOKEN = "so_test_bench0000000"
BODY = (
    b'{"level":"info","message":"[12:00:00] [Server thread/INFO]: Steve joined the game",'
    b'"meta":{"server_id":"s1","tags":["login"],"event_id":"%s"}}'
)


async def measure(name: str, url: str, requests: int, concurrency: int) -> tuple[float, float]:
    """(requests per second, CPU µs per request) for one transport."""
    transport = make_transport(
        name,  # type: ignore[arg-type]
        url,
        SecretStr(TOKEN),
        concurrency=concurrency,
        timeout=30,
    )
    keys = [f"{name}-{time.monotonic_ns()}-{i}" for i in range(requests)]
    todo = list(reversed(keys))

    async def worker() -> None:
        while todo:
            key = todo.pop()
            answer = await transport.post(BODY % key.encode(), key)
            assert answer.status in (200, 201), answer

    await asyncio.gather(*(transport.post(BODY % b"warm", "warm") for _ in range(concurrency)))
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await transport.aclose()
    return requests / wall, cpu / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--transports", nargs="+", default=["http1", "aiohttp", "httpx"])
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    args = parser.parse_args()
    receiver = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "receiver.py"), "--token", TOKEN],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert receiver.stdout is not None
    url = f"http://127.0.0.1:{int(receiver.stdout.readline())}/logs"
    factory = None
    if args.loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    try:
        for round_ in range(1, args.rounds + 1):
            for name in args.transports:
                with asyncio.Runner(loop_factory=factory) as runner:
                    rate, cpu = runner.run(measure(name, url, args.requests, args.concurrency))
                print(
                    f"round {round_} {name:8} loop={args.loop} concurrency={args.concurrency}: "
                    f"{rate:,.0f} requests/s, {cpu:.0f} µs CPU/request",
                    flush=True,
                )
    finally:
        receiver.terminate()


if __name__ == "__main__":
    main()
