"""The parse context across a real restart: the tailer on the real SQLite spool, stopped,
and a new tailer started from the same spool file (as the daemon does on SIGHUP or after
a restart). What the first one learnt (players' UUIDs) enriches what the second reads,
and no line is lost or spooled twice."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from agent.encode.encoder import EntryEncoder
from agent.encode.filters import EntryFilter
from agent.metrics import Metrics
from agent.parse.reader import EntryReader, ReaderOptions, ServerContext
from agent.sources.tail import ReadFrom, ServerSource, Tailer
from agent.state.sinks import SpoolSink
from agent.state.spool import Spool, SpoolOptions

WAIT = 60.0  # bound for a loaded machine; normally well under a second
STEVE_UUID = "8667ba71-b85a-4004-af54-457a9734eed7"
UUID_LINE = f"[10:00:00] [User Authenticator #1/INFO]: UUID of player Steve is {STEVE_UUID}\n"
LOGIN = "[10:00:01] [Server thread/INFO]: Steve[/203.0.113.5:51234] logged in with entity id 7 at (1.5, 64.0, -3.5)\n"  # noqa: E501


def chat(n: int) -> str:
    return f"[10:00:{n:02}] [Server thread/INFO]: <Steve> message {n}\n"


def run_tailer_until(spool_path: Path, log: Path, depth: int) -> None:
    """Open the spool, follow ``log`` until the spool holds ``depth`` records, stop, close."""
    spool = Spool(SpoolOptions(spool_path))
    spooled = threading.Condition()
    spool.add_listener(lambda: _notify(spooled))
    sink = SpoolSink(spool, EntryEncoder(EntryFilter.create(), Metrics()))
    options = ReaderOptions(idle_flush_seconds=0.05)
    tailer = Tailer([ServerSource("survival", log, ReadFrom.BEGINNING, options)], sink, spool)
    thread = threading.Thread(target=tailer.run, daemon=True)
    thread.start()
    try:
        with spooled:
            assert spooled.wait_for(lambda: spool.stats().depth >= depth, WAIT)
    finally:
        tailer.stop()
        thread.join(WAIT)
        spool.close()
    assert not thread.is_alive()


def uninterrupted_context(log: Path) -> dict[str, object]:
    """The context after reading ``log`` in one go, with no restart."""
    context = ServerContext()
    reader = EntryReader(server_id="survival", fingerprint="f", context=context)
    reader.feed(log.read_bytes())
    reader.finish()
    return json.loads(json.dumps(context.snapshot()))


def _notify(condition: threading.Condition) -> None:
    with condition:
        condition.notify_all()


def test_uuids_survive_a_tailer_restart_on_the_real_spool(tmp_path: Path) -> None:
    """Stop the tailer, start a new one on the same spool: the UUID learnt before is on
    the lines read after, and every line is in the spool exactly once."""
    log = tmp_path / "logs" / "latest.log"
    log.parent.mkdir()
    log.write_text(UUID_LINE + LOGIN + chat(2))
    spool_path = tmp_path / "state" / "spool.sqlite3"
    run_tailer_until(spool_path, log, 3)
    with log.open("a") as out:
        out.write(chat(3) + chat(4))
    run_tailer_until(spool_path, log, 5)

    spool = Spool(SpoolOptions(spool_path))
    bodies = [json.loads(record.body) for record in spool.take(100)]
    stored = spool.server_context("survival")
    spool.close()
    # Every component (UUIDs; the online players once the roster is in) is what one
    # uninterrupted read of the whole file leaves behind.
    assert stored == uninterrupted_context(log)
    lines = (UUID_LINE, LOGIN, chat(2), chat(3), chat(4))
    assert [body["message"] for body in bodies] == [
        line.split("]: ", 1)[1].rstrip("\n") for line in lines
    ]
    after_restart = [body["meta"] for body in bodies[-2:]]
    assert [meta.get("uuid") for meta in after_restart] == [STEVE_UUID, STEVE_UUID]
