"""CPU cost of retrying one entry through tenacity, against a fake transport, zero waits.

    .venv/bin/python bench/retry.py --entries 20000 --failures 1

Each entry's first attempt failed with a 500 (``--failures`` more 500s follow, then a
201); ``retry_until_done`` (agent/ship/retry.py) retries it through the transport seam
(:class:`agent.testing.FakeTransport`) and the retry rule, with a wait of 0 and a sleep
that returns at once, so what is timed is tenacity's glue, not waiting. Printed: µs per
retried entry for

* ``Retrying``: ``retry_until_done`` as shipped (``for attempt in Retrying(...)``);
* ``AsyncRetrying``: the same policy as ``async for attempt in AsyncRetrying(...)``;
* ``iter``: the same policy driven through tenacity's undocumented ``Retrying.iter``
  protocol (what the agent used before); these two are kept here only to compare;
* ``no tenacity``: the attempts alone in a plain loop, the floor.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from tenacity import (
    AsyncRetrying,
    DoAttempt,
    DoSleep,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_never,
)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.errors import RetryableShipError, ShipError  # noqa: E402
from agent.ship.retry import WaitRetryAfter, failure, retry_until_done, should_retry  # noqa: E402
from agent.ship.transport import Answer  # noqa: E402
from agent.testing import FakeTransport, accepted, api_error  # noqa: E402

Retry = Callable[..., Awaitable[None]]


async def no_sleep(_seconds: float) -> None:
    """A sleep that returns at once: the waits are 0 anyway."""


async def async_retrying(attempt, first, *, wait, sleep) -> None:  # type: ignore[no-untyped-def]
    """The other documented form: tenacity awaits the sleep itself."""
    replay = first
    policy = AsyncRetrying(
        retry=retry_if_exception(should_retry),
        wait=wait,
        stop=stop_never,
        sleep=sleep,
        reraise=True,
    )
    async for turn in policy:
        with turn:
            if replay is not None:
                failed, replay = replay, None
                raise failed
            await attempt()


async def iter_protocol(attempt, first, *, wait, sleep) -> None:  # type: ignore[no-untyped-def]
    """The previous form: tenacity's ``Retrying.iter`` driven by hand."""
    policy = Retrying(
        retry=retry_if_exception(should_retry), wait=wait, stop=stop_never, reraise=True
    )
    policy.begin()
    state = RetryCallState(policy, fn=None, args=(), kwargs={})
    state.set_exception((type(first), first, first.__traceback__))
    while True:
        action = policy.iter(state)
        if isinstance(action, DoAttempt):
            try:
                await attempt()
            except ShipError as exc:
                state.set_exception((type(exc), exc, exc.__traceback__))
            else:
                return
        elif isinstance(action, DoSleep):
            state.prepare_for_next_attempt()
            await sleep(float(action))


async def plain_loop(attempt, first, *, wait, sleep) -> None:  # type: ignore[no-untyped-def]
    """No tenacity: try again until it works (the floor)."""
    while True:
        try:
            await attempt()
        except RetryableShipError:
            continue
        return


def transport(failures: int) -> FakeTransport:
    """Answers ``failures`` 500s per key (after the first one, already spent), then a 201."""
    seen: dict[str, int] = {}
    ok, error = accepted(), api_error(500, "internal")

    def handler(body: bytes, key: str) -> Answer:
        seen[key] = seen.get(key, 0) + 1
        return error if seen[key] <= failures else ok

    return FakeTransport(handler)


async def run(form: Retry, entries: int, failures: int) -> float:
    """Seconds of CPU to retry ``entries`` entries with ``form``."""
    fake = transport(failures)
    wait = WaitRetryAfter(initial=0.0, maximum=0.0, cap=0.0)
    first = RetryableShipError("HTTP 500 internal", status=500)

    def attempt_for(key: str) -> Callable[[], Awaitable[None]]:
        async def attempt() -> None:
            exc = failure(await fake.post(b"{}", key), 0.0)
            if exc is not None:
                raise exc

        return attempt

    keys = [f"k{n}" for n in range(entries)]
    start = time.process_time()
    for key in keys:
        await form(attempt_for(key), first, wait=wait, sleep=no_sleep)
    return time.process_time() - start


def main() -> None:
    """Print µs per retried entry for each form (best of ``--repeat``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--failures", type=int, default=1, help="500s after the first one")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    forms = {
        "Retrying": retry_until_done,
        "AsyncRetrying": async_retrying,
        "iter": iter_protocol,
        "no tenacity": plain_loop,
    }
    for name, form in forms.items():
        best = min(asyncio.run(run(form, args.entries, args.failures)) for _ in range(args.repeat))
        print(f"{name:>13}: {best / args.entries * 1e6:6.1f} µs per retried entry")


if __name__ == "__main__":
    main()
