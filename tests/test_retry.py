"""The one retry rule, as a table (STYLE.md habit 6)."""

from __future__ import annotations

import asyncio
import email.utils

import httpx
import pytest
from tenacity import RetryCallState

from agent.errors import FatalShipError, PausedShipError, PauseReason, RetryableShipError
from agent.ship.retry import (
    Outcome,
    WaitRetryAfter,
    decide,
    failure,
    parse_error,
    parse_retry_after,
    retry_until_done,
    should_retry,
)
from agent.ship.transport import Answer

DECISIONS = [
    # status, error.code, exception, outcome
    (201, None, None, Outcome.ACCEPTED),
    (200, None, None, Outcome.ACCEPTED),
    (400, "bad_request", None, Outcome.DEAD_LETTER),
    (413, None, None, Outcome.DEAD_LETTER),
    (422, None, None, Outcome.DEAD_LETTER),
    (400, None, None, Outcome.DEAD_LETTER),
    (401, "unauthorized", None, Outcome.PAUSE_AUTH),
    (403, "forbidden", None, Outcome.PAUSE_AUTH),
    (401, None, None, Outcome.PAUSE_AUTH),
    (402, "quota_exceeded", None, Outcome.PAUSE_QUOTA),
    (429, "quota_exceeded", None, Outcome.PAUSE_QUOTA),  # the code wins over the status
    (402, None, None, Outcome.PAUSE_QUOTA),
    (429, None, None, Outcome.RETRY),
    (500, "internal", None, Outcome.RETRY),
    (500, None, None, Outcome.RETRY),
    (502, None, None, Outcome.RETRY),  # a proxy's HTML page: no API code
    (503, None, None, Outcome.RETRY),
    (200, "internal", None, Outcome.RETRY),  # an error body wins over a 2xx status
    (500, "bad_request", None, Outcome.DEAD_LETTER),  # the code wins over the status
    (404, None, None, Outcome.PAUSE_CONFIG),  # a wrong base path: pause, keep everything
    (405, None, None, Outcome.PAUSE_CONFIG),
    (408, None, None, Outcome.RETRY),
    (None, None, httpx.ConnectError("refused"), Outcome.RETRY),
    (None, None, httpx.ReadTimeout("slow"), Outcome.RETRY),
    (None, None, TimeoutError(), Outcome.RETRY),
    (400, "some_new_code", None, Outcome.DEAD_LETTER),  # unknown code: by status
    (503, "some_new_code", None, Outcome.RETRY),
]


@pytest.mark.parametrize(("status", "code", "exc", "outcome"), DECISIONS)
def test_decide_table(
    status: int | None, code: str | None, exc: BaseException | None, outcome: Outcome
) -> None:
    """Each (status, error code, exception) row maps to its documented outcome."""
    assert decide(status, code, exc) is outcome


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"error": {"code": "internal", "message": "x"}}', "internal"),
        (b'{"id": "1", "level": "info"}', None),
        (b"<html>502 Bad Gateway</html>", None),
        (b"", None),
        (b"{not json", None),
        (b'{"error": "flat string"}', None),
        (b"[1, 2]", None),
    ],
)
def test_parse_error_reads_only_the_api_error_shape(body: bytes, code: str | None) -> None:
    """Only {"error": {"code": ...}} is an API error; anything else is not."""
    error = parse_error(body)
    assert (error["code"] if error else None) == code


def test_parse_retry_after_seconds_and_dates() -> None:
    """Retry-After is delta-seconds or an HTTP date; garbage is ignored."""
    now = 1_000_000.0
    assert parse_retry_after("30", now) == 30.0
    assert parse_retry_after(" 2.5 ", now) == 2.5
    assert parse_retry_after("-3", now) == 0.0
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("soon", now) is None
    date = email.utils.formatdate(now + 120, usegmt=True)
    assert parse_retry_after(date, now) == pytest.approx(120, abs=1)


def test_failure_maps_answers_to_the_exception_tree() -> None:
    """Each kind of answer becomes the agent's own exception, carrying what callers need."""
    assert failure(Answer(201, None, b"{}"), 0) is None
    rejected = failure(Answer(400, None, b'{"error":{"code":"bad_request","message":"m"}}'), 0)
    assert isinstance(rejected, FatalShipError) and rejected.status == 400
    assert rejected.body.startswith(b'{"error"')
    transient = failure(Answer(429, "7", b""), 0)
    assert isinstance(transient, RetryableShipError) and transient.retry_after == 7
    assert transient.status == 429
    paused = failure(Answer(402, None, b'{"error":{"code":"quota_exceeded","message":"q"}}'), 0)
    assert isinstance(paused, PausedShipError) and paused.reason is PauseReason.QUOTA
    assert paused.error == {"code": "quota_exceeded", "message": "q"}
    auth = failure(Answer(403, None, b'{"error":{"code":"forbidden","message":"f"}}'), 0)
    assert isinstance(auth, PausedShipError) and auth.reason is PauseReason.AUTH
    html = failure(Answer(502, None, b"<html>bad gateway</html>"), 0)
    assert isinstance(html, RetryableShipError)


def test_should_retry_covers_transient_and_paused_only() -> None:
    """tenacity retries transient failures and pauses, never refusals or other errors."""
    assert should_retry(RetryableShipError("x"))
    assert should_retry(PausedShipError("x", reason=PauseReason.AUTH))
    assert not should_retry(FatalShipError("x", status=400))
    assert not should_retry(ValueError("x"))


def _state(exc: BaseException, attempt: int) -> RetryCallState:
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempt
    state.set_exception((type(exc), exc, None))
    return state


def test_wait_honours_retry_after_then_uses_full_jitter() -> None:
    """Retry-After wins (capped); otherwise waits are random within the exponential bound."""
    wait = WaitRetryAfter(initial=0.5, maximum=8.0, cap=60.0)
    assert wait(_state(RetryableShipError("x", retry_after=3), 1)) == 3
    assert wait(_state(RetryableShipError("x", retry_after=3600), 1)) == 60
    paused = PausedShipError("p", reason=PauseReason.AUTH, status=401, retry_after=5)
    assert wait(_state(paused, 1)) == 0  # the uploader's gate does the waiting
    waits = [wait(_state(RetryableShipError("x"), 10)) for _ in range(200)]
    assert all(0 <= w <= 8.0 for w in waits)
    assert len(set(waits)) > 100  # jittered, not a fixed schedule


def test_retry_until_done_waits_as_told_and_reraises_refusals() -> None:
    """Transient failures are retried after the wait tenacity picks; a refusal ends it."""
    slept: list[float] = []
    script: list[BaseException | None] = [RetryableShipError("x", retry_after=2), None]

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def attempt() -> None:
        outcome = script.pop(0)
        if outcome is not None:
            raise outcome

    wait = WaitRetryAfter(initial=0.5, maximum=8.0, cap=60.0)
    asyncio.run(
        retry_until_done(
            attempt, RetryableShipError("first", retry_after=5), wait=wait, sleep=sleep
        )
    )
    assert slept == [5, 2] and script == []

    refusal = FatalShipError("HTTP 400", status=400, body=b"{}")
    script = [refusal]
    with pytest.raises(FatalShipError):
        asyncio.run(retry_until_done(attempt, RetryableShipError("first"), wait=wait, sleep=sleep))


def test_retry_until_done_ends_when_the_sleep_is_cancelled() -> None:
    """A stop cancels a sleeping retry: the cancellation ends the loop, no attempt follows."""
    attempts: list[int] = []

    async def attempt() -> None:
        attempts.append(1)

    async def scenario() -> None:
        sleeping = asyncio.Event()

        async def sleep(seconds: float) -> None:
            sleeping.set()
            await asyncio.Event().wait()  # until cancelled

        wait = WaitRetryAfter(initial=0.5, maximum=8.0, cap=60.0)
        task = asyncio.create_task(
            retry_until_done(attempt, RetryableShipError("first"), wait=wait, sleep=sleep)
        )
        await sleeping.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert attempts == []
