"""The uploader against a fake transport: acks, dead letters, retries, pauses, shutdown."""

from __future__ import annotations

import asyncio
import logging
import stat
import time
from collections import Counter
from dataclasses import MISSING, fields
from pathlib import Path

import pytest
from pydantic import SecretStr

from agent.app.config import AgentConfig, ApiConfig
from agent.app.wiring import uploader_options
from agent.errors import RetryableShipError, SpoolError
from agent.metrics import Metrics
from agent.ship.auth import TokenProvider, static_token
from agent.ship.transport import Answer
from agent.ship.uploader import Uploader, UploaderOptions
from agent.state.deadletter import DeadLetterFile, read_dead_letters
from agent.state.spool import Spool, SpoolOptions
from agent.testing import FakeTransport, accepted, api_error, make_records

TOKEN = "so_test_abcdefgh1234"
QUOTA_BODY = (
    b'{"error": {"code": "quota_exceeded", "message": "tier quota exceeded for storage_bytes",'
    b' "metric": "storage_bytes", "quotas": [{"metric": "storage_bytes", "used": 10737418240,'
    b' "limit": 10737418240, "cumulative": true}]}}'
)


class Rig:
    """A spool with records, a fake transport and an uploader wired together."""

    def __init__(
        self, tmp_path: Path, handler, count: int = 20, token=None, spool_class=Spool, **options
    ) -> None:
        self.spool = spool_class(SpoolOptions(tmp_path / "spool.sqlite3"))
        self.records = list(make_records(count))
        self.spool.append(self.records, None)
        self.transport = FakeTransport(handler)
        self.metrics = Metrics()
        self.dead_path = tmp_path / "dead-letter.ndjson"
        defaults = {"backoff_initial_seconds": 0.01, "backoff_max_seconds": 0.05}
        self.uploader = Uploader(
            self.spool,
            UploaderOptions("http://127.0.0.1:9", **{**defaults, **options}),
            token or static_token(TOKEN),
            dead_letters=DeadLetterFile(self.dead_path),
            metrics=self.metrics,
            transport=self.transport,
        )

    def drain(self, timeout: float = 30) -> None:
        asyncio.run(asyncio.wait_for(self.uploader.run(until_empty=True), timeout))

    @property
    def ids(self) -> list[str]:
        return [r.event_id for r in self.records]


def test_every_entry_is_sent_once_with_its_idempotency_key(tmp_path: Path) -> None:
    """Each spooled entry is POSTed once, keyed by its event_id, then leaves the spool."""
    rig = Rig(tmp_path, lambda body, key: accepted(), count=50)
    rig.drain()
    assert sorted(rig.transport.calls) == sorted(rig.ids)
    assert rig.spool.stats().depth == 0
    assert rig.metrics.entries_sent._value.get() == 50
    assert rig.transport.closed


def test_bad_request_goes_to_the_dead_letter_file(tmp_path: Path) -> None:
    """A 400 is not retried: the entry and the answer land in a 0600 NDJSON file, counted."""
    poisoned: list[str] = []

    def handler(body: bytes, key: str) -> Answer:
        if not poisoned:
            poisoned.append(key)
        if key == poisoned[0]:
            return api_error(400, "bad_request", "missing required field")
        return accepted()

    rig = Rig(tmp_path, handler)
    rig.drain()
    assert Counter(rig.transport.calls)[poisoned[0]] == 1
    [letter] = read_dead_letters(rig.dead_path)
    assert letter["event_id"] == poisoned[0]
    assert letter["status"] == 400
    assert letter["response"]["error"]["message"] == "missing required field"
    assert letter["entry"]["meta"]["event_id"] == poisoned[0]
    assert stat.S_IMODE(rig.dead_path.stat().st_mode) == 0o600
    assert rig.spool.stats().dead_lettered == 1
    assert rig.spool.stats().depth == 0
    assert rig.metrics.entries_dead_lettered._value.get() == 1


def test_transient_failures_are_retried_until_accepted(tmp_path: Path) -> None:
    """500s, proxy HTML and connection errors are retried; the entry is then accepted once."""
    failures = [
        api_error(500, "internal"),
        Answer(502, None, b"<html>Bad Gateway</html>"),
        RetryableShipError("connection error: ConnectionResetError"),
    ]
    seen: Counter[str] = Counter()

    def handler(body: bytes, key: str) -> Answer:
        seen[key] += 1
        if seen[key] <= len(failures):
            failure = failures[seen[key] - 1]
            if isinstance(failure, Exception):
                raise failure
            return failure
        return accepted()

    rig = Rig(tmp_path, handler, count=10)
    rig.drain()
    assert all(seen[key] == 4 for key in rig.ids)
    assert rig.spool.stats().depth == 0
    assert rig.metrics.entries_retried._value.get() == 30


def test_a_slow_request_does_not_stall_the_others(tmp_path: Path) -> None:
    """While one request hangs, the other workers ship everything else."""
    released = asyncio.Event
    state: dict[str, object] = {"done": 0}

    async def handler(body: bytes, key: str) -> Answer:
        if "gate" not in state:
            state["gate"] = released()
            state["slow"] = key
        if key == state["slow"]:
            await state["gate"].wait()  # type: ignore[attr-defined]
        else:
            state["done"] = int(state["done"]) + 1  # type: ignore[call-overload]
            if state["done"] == 49:
                state["gate"].set()  # type: ignore[attr-defined]
        return accepted()

    rig = Rig(tmp_path, handler, count=50, concurrency=2)
    rig.drain(timeout=20)
    assert rig.spool.stats().depth == 0


def test_a_retry_after_waits_for_that_entry_only(tmp_path: Path) -> None:
    """A 429 with Retry-After delays its own entry by that long; the others go on meanwhile."""
    attempts: dict[str, list[float]] = {}
    order: list[str] = []

    def handler(body: bytes, key: str) -> Answer:
        attempts.setdefault(key, []).append(time.monotonic())
        if len(attempts) == 1 and len(attempts[key]) == 1:
            return api_error(429, "rate_limited", retry_after="0.4")
        order.append(key)
        return accepted()

    rig = Rig(tmp_path, handler, count=30, concurrency=2)
    rig.drain()
    limited = rig.ids[0]
    first, second = attempts[limited]
    assert second - first >= 0.4
    assert order[-1] == limited  # everything else was sent while it waited
    assert len(order) == 30


def test_unauthorized_pauses_reloads_the_token_and_resumes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A 401 stops sending, names logs:write once, and a rotated token file is picked up."""
    token_file = tmp_path / "token"
    token_file.write_text("so_test_oldtoken0000")
    provider = TokenProvider(lambda: SecretStr(token_file.read_text().strip()))
    refused: list[str] = []
    transport_ref: dict[str, FakeTransport] = {}

    def handler(body: bytes, key: str) -> Answer:
        if transport_ref["t"].tokens[-1] != "so_test_newtoken0000":
            refused.append(key)
            token_file.write_text("so_test_newtoken0000")  # the operator rotates it
            return api_error(401, "unauthorized", "missing or invalid authorization token")
        return accepted()

    rig = Rig(tmp_path, handler, count=30, token=provider, auth_retry_seconds=0.05, concurrency=4)
    transport_ref["t"] = rig.transport
    rig.transport.set_token(provider.current())
    with caplog.at_level(logging.INFO):
        rig.drain()
    assert rig.spool.stats().depth == 0
    assert 1 <= len(refused) <= 4  # only what was in flight when the first 401 came back
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "logs:write" in errors[0]
    assert "so_test_" not in caplog.text
    assert rig.metrics.sending_paused.labels("unauthorized")._value.get() == 0
    assert rig.uploader.status().paused is None
    assert rig.uploader.status().last_error == "unauthorized"


def test_quota_exceeded_pauses_logs_the_figures_and_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """quota_exceeded keeps everything, logs used/limit once, and honours Retry-After."""
    calls: list[float] = []

    def handler(body: bytes, key: str) -> Answer:
        calls.append(time.monotonic())
        if len(calls) <= 2:
            return Answer(402, "0.3", QUOTA_BODY)
        return accepted()

    rig = Rig(tmp_path, handler, count=10, concurrency=1, quota_retry_seconds=3600)
    with caplog.at_level(logging.INFO):
        rig.drain()
    assert rig.spool.stats().depth == 0
    assert calls[1] - calls[0] >= 0.3 and calls[2] - calls[1] >= 0.3
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "used 10737418240 of 10737418240" in errors[0] and "cumulative" in errors[0]


def test_stop_finishes_in_flight_requests_and_keeps_the_rest(tmp_path: Path) -> None:
    """On stop, requests in flight complete and are acked; unsent entries stay spooled."""

    async def scenario(rig: Rig, release: asyncio.Event, started: asyncio.Event) -> None:
        task = asyncio.create_task(rig.uploader.run())
        await asyncio.wait_for(started.wait(), 10)
        rig.uploader.request_stop()
        release.set()
        await asyncio.wait_for(task, 10)

    holder: dict[str, asyncio.Event] = {}

    async def handler(body: bytes, key: str) -> Answer:
        if len(rig.transport.calls) == 3:
            holder["started"].set()
        await holder["release"].wait()
        return accepted()

    rig = Rig(tmp_path, handler, count=40, concurrency=3)

    async def main() -> None:
        holder["release"], holder["started"] = asyncio.Event(), asyncio.Event()
        await scenario(rig, holder["release"], holder["started"])

    asyncio.run(main())
    assert len(rig.transport.calls) == 3
    assert rig.spool.stats().depth == 37


def test_stop_gives_up_on_requests_after_the_deadline(tmp_path: Path) -> None:
    """A request that outlives the shutdown deadline is cut; its entry stays in the spool."""

    async def handler(body: bytes, key: str) -> Answer:
        await asyncio.sleep(3600)
        return accepted()

    rig = Rig(tmp_path, handler, count=5, concurrency=2, shutdown_deadline_seconds=0.2)

    async def main() -> float:
        task = asyncio.create_task(rig.uploader.run())
        while len(rig.transport.calls) < 2:
            await asyncio.sleep(0.01)
        start = time.monotonic()
        rig.uploader.request_stop()
        await asyncio.wait_for(task, 10)
        return time.monotonic() - start

    assert 0.2 <= asyncio.run(main()) < 5
    assert rig.spool.stats().depth == 5


def test_memory_is_bounded_by_max_pending(tmp_path: Path) -> None:
    """However large the backlog, at most max_pending records are held in memory."""
    seen: list[int] = []
    rig_ref: dict[str, Rig] = {}

    def handler(body: bytes, key: str) -> Answer:
        seen.append(rig_ref["rig"].uploader.pending)
        return accepted() if len(seen) % 3 else api_error(503, "internal")

    rig = Rig(tmp_path, handler, count=300, max_pending=16, batch_size=8, concurrency=4)
    rig_ref["rig"] = rig
    rig.drain()
    assert max(seen) <= 16
    assert rig.spool.stats().depth == 0


def test_reprs_do_not_show_the_token(tmp_path: Path) -> None:
    """Neither the provider nor the uploader print the token."""
    rig = Rig(tmp_path, lambda body, key: accepted(), count=1)
    provider = static_token(TOKEN)
    assert TOKEN not in repr(provider) + str(provider.current()) + repr(provider.current())
    assert TOKEN not in repr(rig.uploader)


class AckFailingSpool(Spool):
    """A spool whose ack fails, as on a full or broken disk."""

    def ack(self, records) -> None:  # type: ignore[no-untyped-def]
        raise SpoolError("spool: cannot remove: disk I/O error")


def test_a_failing_spool_stops_the_uploader_loudly(tmp_path: Path) -> None:
    """If acking fails, run() stops and raises the error; the entries stay spooled."""
    rig = Rig(tmp_path, lambda body, key: accepted(), count=5, spool_class=AckFailingSpool)
    with pytest.raises(SpoolError):
        rig.drain()
    rig.spool.close()
    assert Spool(SpoolOptions(tmp_path / "spool.sqlite3")).stats().depth == 5


TOKEN_KEYS = {"token", "token_file"}  # read by the TokenProvider, not uploader options


def test_api_config_defaults_are_the_uploader_options_defaults() -> None:
    """Every [api] key but the token's is an UploaderOptions field with the same default."""
    options = {f.name: f.default for f in fields(UploaderOptions)}
    for name, field in ApiConfig.model_fields.items():
        if name in TOKEN_KEYS:
            continue
        assert name in options, f"[api] {name} has no UploaderOptions field"
        if options[name] is not MISSING:  # url: required by the options, defaulted by config
            assert options[name] == field.default, f"default of {name} drifted"


def test_uploader_options_copies_every_api_key(tmp_path: Path) -> None:
    """uploader_options maps each [api] value (none left at a default) and nothing else."""
    from tls import make_ca, write_ca_file

    api = ApiConfig(
        proxy="http://proxy.example:3128",
        ca_file=write_ca_file(make_ca(), tmp_path / "ca.pem"),
        url="https://ingest.example",
        allow_insecure_http=True,
        concurrency=3,
        timeout_seconds=4.5,
        batch_size=17,
        batch_linger_seconds=0.7,
        http2=True,
        shutdown_deadline_seconds=2.5,
    )
    unset = set(ApiConfig.model_fields) - TOKEN_KEYS - api.model_fields_set
    assert not unset, f"give these a non-default value here: {unset}"
    options = uploader_options(AgentConfig(api=api))
    for name in api.model_fields_set:
        assert getattr(options, name) == getattr(api, name)
    assert options.max_pending == UploaderOptions("x").max_pending  # tuning keeps defaults
