"""End to end: spool → uploader → a real HTTP server on 127.0.0.1 with injected faults.

Each scenario asserts that the receiver accepted every entry exactly once by event_id,
except the poisoned ones, which are in the dead-letter file instead.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import SecretStr
from receiver import Faults, Receiver

from agent.ship.auth import TokenProvider
from agent.ship.uploader import Uploader, UploaderOptions
from agent.state.deadletter import DeadLetterFile, read_dead_letters
from agent.state.spool import Spool, SpoolOptions
from agent.testing import make_records

TOKEN = "so_test_e2etoken0000"


def make_uploader(tmp_path: Path, url: str, count: int, token_file: Path | None = None, **kw):
    spool = Spool(SpoolOptions(tmp_path / "spool.sqlite3"))
    records = list(make_records(count))
    spool.append(records, None)
    if token_file is None:
        token_file = tmp_path / "token"
        token_file.write_text(TOKEN)
    provider = TokenProvider(lambda: SecretStr(token_file.read_text().strip()))
    options = UploaderOptions(
        url, backoff_initial_seconds=0.02, backoff_max_seconds=0.2, timeout_seconds=5, **kw
    )
    dead = DeadLetterFile(tmp_path / "dead-letter.ndjson")
    return spool, records, Uploader(spool, options, provider, dead_letters=dead)


def test_faults_mix_every_entry_accepted_exactly_once(tmp_path: Path) -> None:
    """500s, HTML 502s, dropped connections, 429 Retry-After, latency and poisoned entries."""
    records = list(make_records(1500))
    poisoned = {records[7].event_id, records[700].event_id, records[1499].event_id}
    faults = Faults(
        error_rate=0.1,
        html_502_rate=0.05,
        drop_rate=0.05,
        too_many_rate=0.01,
        retry_after="1",
        latency=0.002,
        poisoned=poisoned,
    )
    with Receiver(token=TOKEN, faults=faults) as rx:
        spool, records, uploader = make_uploader(tmp_path, rx.url, 1500)
        asyncio.run(asyncio.wait_for(uploader.run(until_empty=True), 60))
        statuses = dict(rx.state.statuses)
        accepted = rx.state.accepted
    expected = {r.event_id for r in records} - poisoned
    assert set(accepted) == expected
    assert max(accepted.values()) == 1
    assert {d["event_id"] for d in read_dead_letters(tmp_path / "dead-letter.ndjson")} == poisoned
    assert spool.stats().depth == 0 and spool.stats().dead_lettered == 3
    assert statuses[500] > 50 and statuses[502] > 20 and statuses[429] >= 1


def test_quota_exceeded_then_recovery(tmp_path: Path) -> None:
    """While the quota is exhausted nothing is lost; after it is raised all arrive once."""
    with Receiver(token=TOKEN, faults=Faults(quota_exceeded=True, retry_after="0.1")) as rx:
        spool, records, uploader = make_uploader(tmp_path, rx.url, 200)

        async def main() -> None:
            task = asyncio.create_task(uploader.run(until_empty=True))
            while rx.state.statuses[402] < 2:  # refused, paused, probed and refused again
                await asyncio.sleep(0.01)
            assert spool.stats().depth == 200
            rx.faults.quota_exceeded = False  # the operator upgrades the tier
            await asyncio.wait_for(task, 30)

        asyncio.run(main())
        refused = rx.state.statuses[402]
    assert set(rx.state.accepted) == {r.event_id for r in records}
    assert max(rx.state.accepted.values()) == 1
    assert refused <= 8 + 10  # the first wave in flight, then one probe per pause


def test_unauthorized_then_recovery_after_token_change(tmp_path: Path) -> None:
    """A revoked token pauses sending; rotating the token file resumes it, nothing lost."""
    token_file = tmp_path / "token"
    token_file.write_text("so_test_revoked00000")
    with Receiver(token=TOKEN) as rx:
        spool, records, uploader = make_uploader(
            tmp_path, rx.url, 200, token_file=token_file, auth_retry_seconds=0.1
        )

        async def main() -> None:
            task = asyncio.create_task(uploader.run(until_empty=True))
            while rx.state.statuses[401] < 2:
                await asyncio.sleep(0.01)
            token_file.write_text(TOKEN + "\n")
            await asyncio.wait_for(task, 30)

        asyncio.run(main())
    assert set(rx.state.accepted) == {r.event_id for r in records}
    assert max(rx.state.accepted.values()) == 1
    assert spool.stats().depth == 0
