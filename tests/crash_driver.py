"""A stand-in agent for the crash test: produce records with checkpoints, ship them.

    SERVEROPS_TOKEN=... python tests/crash_driver.py --state DIR --url URL --entries N

A producer thread plays the tailer: it resumes from the spool's checkpoint and appends
``--batch`` generated records per transaction together with the checkpoint they
complete, at ``--rate`` entries/s. The uploader ships them. The process exits 0 once
everything was produced and the spool is empty. The crash test kill -9s it at random
moments and starts it again. (The coordinator will switch the test to the real daemon.)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.model import Checkpoint
from agent.ship.auth import static_token
from agent.ship.uploader import Uploader, UploaderOptions
from agent.state.deadletter import DeadLetterFile
from agent.state.spool import Spool, SpoolOptions
from agent.testing import make_records

SERVER_ID = "crash"
FINGERPRINT = "c" * 16


def produce(
    spool: Spool, total: int, batch: int, rate: float, done: threading.Event, stop: threading.Event
) -> None:
    """Append records from the saved checkpoint on, checkpoint in the same transaction."""
    checkpoint = spool.checkpoint(SERVER_ID)
    position = checkpoint.offset if checkpoint else 0
    while position < total and not stop.is_set():
        count = min(batch, total - position)
        records = make_records(count, server_id=SERVER_ID, fingerprint=FINGERPRINT, start=position)
        position += count
        spool.append(records, Checkpoint(SERVER_ID, FINGERPRINT, position))
        time.sleep(count / rate)
    done.set()


async def ship(
    spool: Spool, uploader: Uploader, produced: threading.Event, stop: threading.Event
) -> None:
    """Run the uploader until everything was produced and accepted, or SIGTERM."""

    def terminate() -> None:  # like the daemon: stop reading, finish in-flight, exit 0
        stop.set()
        uploader.request_stop()

    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, terminate)
    task = asyncio.create_task(uploader.run())
    while not stop.is_set() and not (
        produced.is_set() and spool.stats().depth == 0 and uploader.pending == 0
    ):
        await asyncio.sleep(0.02)
    uploader.request_stop()
    await task


def main() -> None:
    """Parse arguments, start the producer, ship until done."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--deadline", type=float, default=10.0)
    args = parser.parse_args()
    spool = Spool(SpoolOptions(args.state / "spool.sqlite3"))
    produced, stop = threading.Event(), threading.Event()
    producer = threading.Thread(
        target=produce, args=(spool, args.entries, args.batch, args.rate, produced, stop)
    )
    producer.start()
    uploader = Uploader(
        spool,
        UploaderOptions(
            args.url, concurrency=args.concurrency, shutdown_deadline_seconds=args.deadline
        ),
        static_token(os.environ["SERVEROPS_TOKEN"]),
        dead_letters=DeadLetterFile(args.state / "dead-letter.ndjson"),
    )
    asyncio.run(ship(spool, uploader, produced, stop))
    producer.join()
    print(f"done: {spool.stats()}", flush=True)


if __name__ == "__main__":
    main()
