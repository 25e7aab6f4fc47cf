"""What the uploader tells the operator: metrics, ``status()``, and logs that stay readable.

One failing API must not flood the log: transient failures are counted and reported as
one ``ship.degraded`` warning a minute at most; a pause is logged as an error once, when it
begins (its repeats at DEBUG); a dead-lettered entry is a warning each, since each is an
entry lost to the API. The token never appears (the answers and exceptions logged here
carry none).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from agent import events
from agent.errors import FatalShipError, PausedShipError, PauseReason, RetryableShipError
from agent.metrics import Metrics
from agent.ship.retry import parse_error
from agent.state.spool import SpooledRecord

log = logging.getLogger(__name__)

DEGRADED_LOG_INTERVAL = 60.0  # seconds between two ship.degraded warnings
PAUSE_LABELS = ("unauthorized", "forbidden", "quota", "config")


class ShipReport:
    """Counts, remembers and logs what happened to requests (one per uploader)."""

    def __init__(self, metrics: Metrics, clock: Callable[[], float], url: str = "") -> None:
        self._metrics = metrics
        self._clock = clock
        self._url = url  # the ingest URL, named when it answers 404/405
        self._unexpected_seen: set[tuple[str, type[BaseException]]] = set()
        self._paced: tuple[float, int] = (0.0, 0)
        self._status_counters: dict[int, object] = {}
        self._failures_unreported = 0
        self._last_degraded_log = -DEGRADED_LOG_INTERVAL
        self.paused: str | None = None  # "unauthorized", "forbidden", "quota", "config"
        self.last_error: str | None = None

    def answered(self, status: int) -> None:
        """Count one HTTP answer by status (the counter children are cached)."""
        counter = self._status_counters.get(status)
        if counter is None:
            counter = self._metrics.http_responses.labels(str(status))
            self._status_counters[status] = counter
        counter.inc()  # type: ignore[attr-defined]

    def accepted(self) -> None:
        """One entry accepted."""
        self._metrics.entries_sent.inc()
        self._metrics.last_success.set(time.time())

    def transient(self, exc: RetryableShipError) -> None:
        """One transient failure: counted always, logged at most once a minute."""
        self._metrics.entries_retried.inc()
        self.last_error = str(exc)
        self._failures_unreported += 1
        now = self._clock()
        if now - self._last_degraded_log >= DEGRADED_LOG_INTERVAL:
            log.warning(
                "%s: %s (%d transient failure(s) since the last report); retrying with "
                "backoff, nothing is dropped",
                events.SHIP_DEGRADED,
                exc,
                self._failures_unreported,
            )
            self._failures_unreported = 0
            self._last_degraded_log = now

    def paused_by(self, exc: PausedShipError, delay: float, *, new: bool) -> None:
        """Sending paused (``new``: it just began, so say it loudly)."""
        label = pause_label(exc)
        self.paused = self.last_error = label
        self._metrics.sending_paused.labels(label).set(1)
        if new:
            log.error("%s", pause_message(exc, delay, self._url))
        else:
            log.debug("%s: still paused (%s); next try in %.0f s", _pause_event(exc), exc, delay)

    def resumed(self) -> None:
        """The pause is over."""
        for label in PAUSE_LABELS:
            self._metrics.sending_paused.labels(label).set(0)
        self.paused = None
        log.info("%s: the API accepts entries again; sending resumed", events.SHIP_RESUMED)

    def unexpected(
        self, component: str, exc: BaseException, secret: str = ""
    ) -> RetryableShipError:
        """An exception nobody planned for (a bug, a library surprise): counted, logged with
        its traceback once per component and type (repeats at DEBUG), and returned as a
        transient failure so the work is retried with backoff instead of a task dying.

        A message that contains ``secret`` (the token) is withheld, traceback included.
        """
        self._metrics.ship_unexpected_errors.labels(component).inc()
        message = str(exc)
        leaks = bool(secret) and secret in message
        if leaks:
            message = "(message withheld: it contains the token)"
        what = f"unexpected {type(exc).__name__} in the {component}: {message[:200]}"
        key = (component, type(exc))
        if key in self._unexpected_seen:
            log.debug("%s: %s (again)", events.SHIP_UNEXPECTED, what)
        else:
            self._unexpected_seen.add(key)
            log.error(
                "%s: %s; retrying with backoff, nothing is dropped (reported once; counted "
                "in serverops_agent_ship_unexpected_errors)",
                events.SHIP_UNEXPECTED,
                what,
                exc_info=None if leaks else exc,
            )
        return RetryableShipError(what)

    def recovered(self, outage: float, backlog: int, drain_window: float) -> None:
        """The first success after an outage of ``outage`` seconds."""
        log.info(
            "%s: the API answers again after %.1f s of failures; %d entries waiting, sent "
            "within about %.0f s",
            events.SHIP_RECOVERED,
            outage,
            backlog,
            drain_window,
        )

    def paced(self, timeout: float, limit: int) -> None:
        """The adaptive timeout and concurrency now (gauges, set only when they change)."""
        if (timeout, limit) != self._paced:
            self._paced = (timeout, limit)
            self._metrics.ship_timeout_seconds.set(timeout)
            self._metrics.ship_concurrency.set(limit)

    def request(self, event_id: str, status: int | str, latency: float) -> None:
        """One request (DEBUG only: status and latency, never a header)."""
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s: POST event_id=%s -> %s in %.0f ms",
                events.SHIP_REQUEST,
                event_id,
                status,
                latency * 1000,
            )

    def dead_lettered(self, record: SpooledRecord, exc: FatalShipError, path: Path) -> None:
        """One entry refused for good and kept in the dead-letter file."""
        error = parse_error(exc.body) or {}
        self.last_error = f"event_id={record.event_id} refused: {exc}"
        self._metrics.entries_dead_lettered.inc()
        log.warning(
            "%s: the API refused event_id=%s for good (%s: %s); kept in %s",
            events.SHIP_DEAD_LETTERED,
            record.event_id,
            exc,
            error.get("message", "no API error message"),
            path,
        )

    def stopped(self, cut: int, depth: int) -> None:
        """The uploader stopped; what was not sent stays in the spool."""
        log.info(
            "%s: %d request(s) cut at the deadline; %d entries stay in the spool",
            events.SHIP_STOPPED,
            cut,
            depth,
        )


def pause_label(exc: PausedShipError) -> str:
    """The ``status()``/metric label of a pause."""
    if exc.reason is PauseReason.QUOTA:
        return "quota"
    if exc.reason is PauseReason.CONFIG:
        return "config"
    code = exc.error.get("code") if exc.error else None
    return "forbidden" if (exc.status == 403 or code == "forbidden") else "unauthorized"


def _pause_event(exc: PausedShipError) -> str:
    if exc.reason is PauseReason.CONFIG:
        return events.SHIP_MISCONFIGURED
    return events.SHIP_QUOTA if exc.reason is PauseReason.QUOTA else events.SHIP_UNAUTHORIZED


def pause_message(exc: PausedShipError, delay: float, url: str = "") -> str:
    """One clear error for the operator (never the token itself)."""
    if exc.reason is PauseReason.CONFIG:
        return (
            f"{events.SHIP_MISCONFIGURED}: POST {url or 'the ingest URL'} answered {exc}: "
            f"there is no log API at that address; check api.url (the base URL, without "
            f"/logs). Sending paused, every entry kept in the spool; it resumes on SIGHUP "
            f"(systemctl reload serverops-agent) once the server is fixed, or on a restart "
            f"after api.url is changed"
        )
    if exc.reason is PauseReason.AUTH:
        return (
            f"{events.SHIP_UNAUTHORIZED}: the API refused the token ({exc}); it needs a valid "
            f"token with the scope logs:write. Sending paused, every entry kept in the "
            f"spool; the token is reloaded and tried again every {delay:.0f} s"
        )
    error = exc.error or {}
    figures = ", ".join(
        f"{q.get('metric')}: used {q.get('used')} of {q.get('limit')}"
        + (" (cumulative: will not reset by waiting)" if q.get("cumulative") else "")
        for q in error.get("quotas", [])
        if isinstance(q, dict)
    )
    return (
        f"{events.SHIP_QUOTA}: {error.get('message', exc)}"
        + (f" [{figures}]" if figures else "")
        + f". Sending paused, every entry kept in the spool; next try in {delay:.0f} s"
    )
