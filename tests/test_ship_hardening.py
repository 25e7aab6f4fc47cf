"""Issue 10 in the uploader, against the real receiver on 127.0.0.1: no task dies silently,
a 404 pauses until a reload, recovery after an outage, and the adaptive timeout/AIMD and
recovery rules on their own (pure, no waiting)."""

from __future__ import annotations

import asyncio
import itertools
import logging
from pathlib import Path

import pytest
from pydantic import SecretStr
from receiver import Faults, Receiver

from agent import events
from agent.errors import SpoolError
from agent.metrics import Metrics
from agent.ship.auth import TokenProvider
from agent.ship.options import transport_for
from agent.ship.pacing import MAX_TIMEOUT_SECONDS, Pacer, Slots
from agent.ship.recovery import DrainPacer, Outage, drain_window, probe_cap
from agent.ship.transport import Answer
from agent.ship.uploader import Uploader, UploaderOptions
from agent.state.deadletter import DeadLetterFile
from agent.state.spool import Spool, SpoolOptions
from agent.testing import make_records

TOKEN = "so_test_hardening000"


class FlakyTransport:
    """The real aiohttp transport, except that the first ``failures`` posts raise an
    exception nobody planned for (a library bug, say)."""

    def __init__(self, url: str, failures: int, exc: Exception) -> None:
        self._inner = transport_for(UploaderOptions(url), SecretStr(TOKEN))
        self._failures = failures
        self._exc = exc
        self.posts = 0

    async def post(self, body: bytes, idempotency_key: str) -> Answer:
        self.posts += 1
        if self.posts <= self._failures:
            raise self._exc
        return await self._inner.post(body, idempotency_key)

    def set_token(self, token: SecretStr) -> None:
        self._inner.set_token(token)

    async def aclose(self) -> None:
        await self._inner.aclose()


def build(tmp_path: Path, url: str, count: int, **kw) -> tuple[Spool, list, Uploader, Metrics]:
    spool = Spool(SpoolOptions(tmp_path / "spool.sqlite3"))
    records = list(make_records(count))
    spool.append(records, None)
    metrics = Metrics()
    transport = kw.pop("transport", None)
    options = UploaderOptions(
        url, backoff_initial_seconds=0.02, backoff_max_seconds=0.2, timeout_seconds=5, **kw
    )
    uploader = Uploader(
        spool,
        options,
        TokenProvider(lambda: SecretStr(TOKEN)),
        dead_letters=DeadLetterFile(tmp_path / "dead-letter.ndjson"),
        metrics=metrics,
        transport=transport,
    )
    return spool, records, uploader, metrics


def test_unexpected_transport_exception_is_contained_logged_once_and_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: the ValueError ended the worker and run() raised. Now: logged with its
    traceback once, counted, retried; every entry arrives once; the uploader stays alive."""
    caplog.set_level(logging.DEBUG, logger="agent")
    with Receiver(token=TOKEN) as rx:
        flaky = FlakyTransport(rx.url, 30, ValueError("Forbidden control character"))
        spool, records, uploader, metrics = build(tmp_path, rx.url, 50, transport=flaky)

        async def main() -> None:
            task = asyncio.create_task(uploader.run())
            while rx.state.accepted_total < 50:
                assert not task.done(), "the uploader ended"
                assert uploader.alive
                await asyncio.sleep(0.02)
            uploader.request_stop()
            await asyncio.wait_for(task, 30)

        asyncio.run(asyncio.wait_for(main(), 60))
        accepted = dict(rx.state.accepted)
    assert set(accepted) == {r.event_id for r in records} and max(accepted.values()) == 1
    assert metrics.by_label(metrics.ship_unexpected_errors, "component") == {"sender": 30.0}
    loud = [r for r in caplog.records if r.getMessage().startswith(events.SHIP_UNEXPECTED)]
    assert len([r for r in loud if r.levelno == logging.ERROR]) == 1
    assert [r.exc_info is not None for r in loud if r.levelno == logging.ERROR] == [True]
    assert "unexpected ValueError in the sender" in (uploader.status().last_error or "")
    assert spool.stats().depth == 0


def test_an_unexpected_message_with_the_token_is_withheld(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A library that puts the header value in its message must not leak the token."""
    with Receiver(token=TOKEN) as rx:
        flaky = FlakyTransport(rx.url, 3, ValueError(f"bad header: Bearer {TOKEN}"))
        _spool, _records, uploader, _metrics = build(tmp_path, rx.url, 5, transport=flaky)
        asyncio.run(asyncio.wait_for(uploader.run(until_empty=True), 30))
    assert TOKEN not in caplog.text and "message withheld" in caplog.text
    assert TOKEN not in (uploader.status().last_error or "")


def test_failed_spool_read_is_retried_with_backoff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A spool read that fails once is reported and tried again, not the end of sending."""
    with Receiver(token=TOKEN) as rx:
        spool, _records, uploader, metrics = build(tmp_path, rx.url, 20)
        real_take = spool.take_fair
        calls = {"n": 0}

        def take_fair(limit: int, cursors: dict[str, int]):
            calls["n"] += 1
            if calls["n"] == 1:
                raise SpoolError("spool: database is locked")
            return real_take(limit, cursors)

        monkeypatch.setattr(spool, "take_fair", take_fair)
        asyncio.run(asyncio.wait_for(uploader.run(until_empty=True), 30))
        assert len(rx.state.accepted) == 20
    assert metrics.by_label(metrics.ship_unexpected_errors, "component") == {"feeder": 1.0}


def test_an_uploader_that_cannot_go_on_is_not_alive_and_raises(tmp_path: Path) -> None:
    """The spool failing on ack cannot be retried here: run() raises, alive turns False."""
    with Receiver(token=TOKEN) as rx:
        spool, _records, uploader, _metrics = build(tmp_path, rx.url, 5)

        def ack(records) -> None:
            raise SpoolError("spool: disk I/O error")

        spool.ack = ack  # type: ignore[method-assign]
        assert uploader.alive  # before run(): nothing died
        with pytest.raises(SpoolError):
            asyncio.run(asyncio.wait_for(uploader.run(), 30))
    assert not uploader.alive


def test_404_pauses_with_the_url_named_and_resumes_on_reload(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A wrong base path is a config error: one loud line naming the URL, no retry storm,
    everything kept; reload_token() (SIGHUP) resumes once the server is fixed."""
    with Receiver(token=TOKEN, faults=Faults(not_found=True)) as rx:
        spool, records, uploader, _metrics = build(tmp_path, rx.url, 40)

        async def main() -> None:
            task = asyncio.create_task(uploader.run())
            while uploader.status().paused != "config":
                await asyncio.sleep(0.02)
            refused = rx.state.statuses[404]
            await asyncio.sleep(2.5)  # a transient retry would have tried dozens of times
            assert rx.state.statuses[404] == refused <= 8
            assert spool.stats().depth == 40
            rx.faults.not_found = False
            uploader.reload_token()
            while rx.state.accepted_total < 40:
                await asyncio.sleep(0.02)
            uploader.request_stop()
            await asyncio.wait_for(task, 30)

        asyncio.run(asyncio.wait_for(main(), 60))
    assert set(rx.state.accepted) == {r.event_id for r in records}
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len([m for m in errors if m.startswith(events.SHIP_MISCONFIGURED)]) == 1
    assert f"POST {rx.url}/logs answered HTTP 404" in errors[0] and "api.url" in errors[0]
    assert uploader.status().paused is None


def test_recovery_wakes_sleeping_retries(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Retries sleeping out a long backoff go again within a second of the first success,
    and one ship.recovered line gives the outage and the backlog."""
    caplog.set_level(logging.INFO, logger="agent")
    with Receiver(token=TOKEN, faults=Faults(drop_rate=1.0)) as rx:
        spool, _records, uploader, _metrics = build(tmp_path, rx.url, 30)
        uploader._retries._wait._backoff.multiplier = 30.0  # a retry sleeps up to ~60 s
        uploader._retries._wait._backoff.max = 60.0

        async def main() -> None:
            task = asyncio.create_task(uploader.run())
            while uploader._retries.sleeping + uploader._retries.parked < 30:
                await asyncio.sleep(0.02)
            await asyncio.sleep(2.5)  # an outage long enough to be reported
            assert rx.state.requests < 60  # one prober, not 30 retries at their own pace
            rx.faults.drop_rate = 0.0
            spool.append(list(make_records(1, start=1000)), None)  # a new entry: a success
            back = asyncio.get_running_loop().time()
            while rx.state.accepted_total < 31:
                await asyncio.sleep(0.02)
            assert asyncio.get_running_loop().time() - back < 5.0
            uploader.request_stop()
            await asyncio.wait_for(task, 30)

        asyncio.run(asyncio.wait_for(main(), 60))
    recovered = [r.getMessage() for r in caplog.records if events.SHIP_RECOVERED in r.getMessage()]
    assert len(recovered) == 1 and "entries waiting" in recovered[0]


# -- the rules on their own -----------------------------------------------------------------


def test_pacer_widens_after_consecutive_timeouts_and_halves_concurrency() -> None:
    pacer = Pacer(1.0, 8)
    pacer.timed_out(1.0)
    assert (pacer.timeout, pacer.limit) == (1.0, 8)  # one timeout is not a pattern
    pacer.timed_out(1.0)
    assert (pacer.timeout, pacer.limit) == (2.0, 4)
    for _ in range(6):  # the rest of the first round, sent with 1 s: counted once already
        pacer.timed_out(1.0)
    assert (pacer.timeout, pacer.limit) == (2.0, 4)
    pacer.timed_out(2.0)
    pacer.timed_out(2.0)
    assert (pacer.timeout, pacer.limit) == (4.0, 2)
    for _ in range(20):
        pacer.timed_out(pacer.timeout)
    assert pacer.timeout == MAX_TIMEOUT_SECONDS and pacer.limit == 1


def test_pacer_restores_concurrency_additively_and_never_narrows_into_the_latency() -> None:
    pacer = Pacer(1.0, 8)
    for used in (1.0, 1.0, 2.0, 2.0):
        pacer.timed_out(used)
    assert (pacer.timeout, pacer.limit) == (4.0, 2)
    for _ in range(100):
        pacer.answered(2.5)  # slow but in time: concurrency comes back, the timeout stays
    assert pacer.limit == 8 and pacer.timeout == 4.0
    for _ in range(100):
        pacer.answered(0.05)  # fast again: back to the configured timeout
    assert pacer.timeout == 1.0


def test_pacer_warns_once_naming_the_key(caplog: pytest.LogCaptureFixture) -> None:
    pacer = Pacer(1.0, 8)
    for _ in range(10):
        pacer.timed_out(pacer.timeout)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "api.timeout_seconds" in warnings[0] and "duplicates" in warnings[0]


def test_slots_follow_the_pacer_limit() -> None:
    async def main() -> list[int]:
        pacer = Pacer(1.0, 4)
        slots = Slots(pacer)
        peak: list[int] = []

        async def one() -> None:
            async with slots:
                peak.append(slots.in_use)
                await asyncio.sleep(0.01)

        await asyncio.gather(*(one() for _ in range(12)))
        pacer.limit = 2
        first = max(peak)
        peak.clear()
        await asyncio.gather(*(one() for _ in range(12)))
        return [first, max(peak), slots.in_use]

    assert asyncio.run(main()) == [4, 2, 0]


def test_outage_and_drain_pacing() -> None:
    outage = Outage()
    assert outage.succeeded(5.0) is None  # no failures: nothing ended
    assert outage.may_retry("a") and outage.may_retry("b")  # no outage: everyone goes
    outage.failed(10.0)
    outage.failed(11.0)
    assert outage.succeeded(11.5) == 1.5
    outage.failed(20.0)
    assert outage.may_retry("a") and not outage.may_retry("b")  # "a" probes, "b" waits
    assert outage.may_retry("a")
    outage.release("a")  # "a" was accepted or dead-lettered: another may probe
    assert outage.may_retry("b") and not outage.may_retry("a")
    assert outage.succeeded(60.0) == 40.0
    assert outage.may_retry("a") and outage.may_retry("b")
    assert probe_cap(0.5) == 1.0 and probe_cap(40.0) == 4.0 and probe_cap(600.0) == 60.0
    assert drain_window(10.0) == 1.0  # short: most likely this host's alone
    assert drain_window(40.0) == 4.0
    assert drain_window(300.0) == 150.0
    assert drain_window(600.0) == 1200.0  # long: the fleet's; paced over 2x the outage
    pacer = DrainPacer()
    assert pacer.delay(0.0) == 0.0
    window = pacer.start(100.0, backlog=80, outage=40.0)
    rate = 81 / window + 80 / 40  # the backlog over the window, beside new entries
    delays = [pacer.delay(100.0) for _ in range(100)]  # the success itself was the first
    gaps = [b - a for a, b in itertools.pairwise(delays)]
    assert 0.5 / rate <= delays[0] <= 1.5 / rate
    assert all(0.5 / rate <= gap <= 1.5 / rate for gap in gaps)
    assert sum(gaps) / len(gaps) == pytest.approx(1 / rate, rel=0.1)
    assert pacer.delay(100.0 + window) == 0.0  # the window is over
