"""The one retry rule (STYLE.md habit 6): what to do with the API's answer to one entry.

:func:`decide` is a pure function of (HTTP status, ``error.code``, exception) and is the
only place the rule lives. It looks at the error code first, then the status, then the
exception:

* ``bad_request`` / 400, 413, 422 → DEAD_LETTER: sending again cannot help.
* ``unauthorized``, ``forbidden`` / 401, 403 → PAUSE_AUTH: stop sending, keep everything,
  reload the token and try again every few minutes.
* ``quota_exceeded`` / 402 → PAUSE_QUOTA: stop sending, keep everything, try again after a
  long wait (or the server's ``Retry-After``).
* 404, 405 → PAUSE_CONFIG: ``POST {url}/logs`` does not exist there (a wrong base path):
  stop sending, keep everything, resume when the operator reloads (SIGHUP).
* ``internal``, 429, 5xx, timeouts, connection errors, a body that is not the API's JSON,
  and any other status → RETRY with full-jitter exponential backoff, forever. A status the
  contract does not name is retried rather than dead-lettered: a mistake must not throw
  entries away.
* any 2xx → ACCEPTED.

:func:`failure` turns a decision into one of the agent's exceptions
(:class:`~agent.errors.RetryableShipError`, :class:`~agent.errors.PausedShipError` with its
:class:`~agent.errors.PauseReason`, :class:`~agent.errors.FatalShipError`), and
:func:`retry_until_done` hands those to tenacity through its documented
``for attempt in Retrying(...)`` form, whose ``retry_if_exception`` uses
:func:`should_retry` and whose wait is :class:`WaitRetryAfter`.

This module reads answers (:class:`agent.ship.transport.Answer`); the transport knows
nothing of it.
"""

from __future__ import annotations

import email.utils
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any

import orjson
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_never,
    wait_random_exponential,
)

from agent.errors import (
    FatalShipError,
    PausedShipError,
    PauseReason,
    RetryableShipError,
    ShipError,
)
from agent.ship.transport import Answer


class Outcome(Enum):
    """What the uploader does with an entry after one attempt."""

    ACCEPTED = "accepted"
    RETRY = "retry"
    DEAD_LETTER = "dead_letter"
    PAUSE_AUTH = "pause_auth"
    PAUSE_QUOTA = "pause_quota"
    PAUSE_CONFIG = "pause_config"


_BY_CODE = {
    "bad_request": Outcome.DEAD_LETTER,
    "unauthorized": Outcome.PAUSE_AUTH,
    "forbidden": Outcome.PAUSE_AUTH,
    "quota_exceeded": Outcome.PAUSE_QUOTA,
    "internal": Outcome.RETRY,
}
_BY_STATUS = {
    400: Outcome.DEAD_LETTER,
    413: Outcome.DEAD_LETTER,
    422: Outcome.DEAD_LETTER,
    401: Outcome.PAUSE_AUTH,
    403: Outcome.PAUSE_AUTH,
    402: Outcome.PAUSE_QUOTA,
    404: Outcome.PAUSE_CONFIG,
    405: Outcome.PAUSE_CONFIG,
}


def decide(status: int | None, code: str | None, exc: BaseException | None = None) -> Outcome:
    """The retry rule: error code first, then HTTP status, then the exception."""
    if code in _BY_CODE:
        return _BY_CODE[code]
    if status is not None:
        if 200 <= status < 300:
            return Outcome.ACCEPTED
        return _BY_STATUS.get(status, Outcome.RETRY)
    return Outcome.RETRY  # no answer at all: timeout, refused, reset (exc says which)


def parse_error(body: bytes) -> dict[str, Any] | None:
    """The ``error`` object of an API error body, or None if the body is not the API's JSON."""
    if not body or body[:1] != b"{" or b'"error"' not in body:  # most answers: no parse
        return None
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    error = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        return error
    return None


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


_PAUSES = {
    Outcome.PAUSE_AUTH: PauseReason.AUTH,
    Outcome.PAUSE_QUOTA: PauseReason.QUOTA,
    Outcome.PAUSE_CONFIG: PauseReason.CONFIG,
}


def failure(answer: Answer, now: float) -> ShipError | None:
    """The exception for a non-accepted answer (None when the API accepted the entry)."""
    error = parse_error(answer.body)
    code = error["code"] if error else None
    outcome = decide(answer.status, code)
    if outcome is Outcome.ACCEPTED:
        return None
    retry_after = parse_retry_after(answer.retry_after, now)
    what = f"HTTP {answer.status}" + (f" {code}" if code else "")
    if outcome is Outcome.DEAD_LETTER:
        return FatalShipError(what, status=answer.status, body=answer.body)
    if outcome is Outcome.RETRY:
        return RetryableShipError(what, status=answer.status, retry_after=retry_after)
    return PausedShipError(
        what,
        reason=_PAUSES[outcome],
        status=answer.status,
        error=error,
        retry_after=retry_after,
    )


def should_retry(exc: BaseException) -> bool:
    """tenacity's ``retry_if_exception`` predicate: retry transient failures and pauses."""
    return isinstance(exc, RetryableShipError | PausedShipError)


class WaitRetryAfter:
    """tenacity wait: the server's Retry-After if it sent one, else full-jitter backoff.

    Pauses wait 0 here: the uploader's shared gate holds every request during a pause.
    """

    def __init__(self, initial: float, maximum: float, cap: float) -> None:
        self._backoff = wait_random_exponential(multiplier=initial, max=maximum)
        self._cap = cap

    def __call__(self, retry_state: RetryCallState) -> float:
        """Seconds to sleep before the next attempt."""
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, PausedShipError):
            return 0.0
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return min(retry_after, self._cap)
        return self._backoff(retry_state)


async def retry_until_done(
    attempt: Callable[[], Awaitable[None]],
    first: ShipError,
    *,
    wait: WaitRetryAfter,
    sleep: Callable[[float], Awaitable[None]],
) -> None:
    """Call ``attempt`` again after ``first`` failed, until it succeeds; never give up on
    retryable errors, re-raise anything else (a FatalShipError, say).

    tenacity decides (``retry_if_exception(should_retry)``, ``wait``, ``stop_never``),
    through its documented ``for attempt in Retrying(...): with attempt:`` form:

    * the first attempt already happened in a worker: its failure is replayed as
      tenacity's attempt 1, so the first wait honours its Retry-After and the backoff
      counts it;
    * a synchronous ``Retrying`` cannot await, so its ``sleep`` only records the delay
      tenacity chose and the next attempt awaits it first (a stop raised there ends the
      loop like any error that is not retryable);
    * ``AsyncRetrying`` would await the sleep itself, but it re-inspects every callback on
      every attempt: twice the CPU per retried entry (bench/README.md "Retries",
      ``bench/retry.py``), which matters when 10 % of answers are 500s.

    A policy is built per call because tenacity keeps the iteration state on it.
    """
    delays: list[float] = []
    replay: ShipError | None = first
    policy = Retrying(
        retry=retry_if_exception(should_retry),
        wait=wait,
        stop=stop_never,
        sleep=delays.append,
        reraise=True,
    )
    for turn in policy:
        with turn:
            if replay is not None:
                failed, replay = replay, None
                raise failed
            await sleep(delays.pop())
            await attempt()
