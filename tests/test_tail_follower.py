"""One server's stream state machine, driven step by step (agent/sources/tail/follower.py).

The follower is stepped by hand with a fake clock, so these tests have no threads and no
waiting; tests/test_tail_live.py runs the real tailer loop with a writer thread.
"""

from __future__ import annotations

import gzip
import logging
import os
import shutil
from datetime import UTC, date
from pathlib import Path

import pytest
from tail_writer import JulWriter, Log4jWriter, counter_of, mc_line, pre17_line

from agent import events
from agent.parse.fingerprint import is_complete
from agent.parse.reader import ReaderOptions
from agent.sources.tail.follower import Follower, Phase
from agent.sources.tail.live import LiveFile
from agent.sources.tail.sink import MemoryCheckpointStore, MemorySink
from agent.sources.tail.source import ReadFrom, ServerSource


class Agent:
    """A follower plus the sink/store that outlive it (like the spool across restarts)."""

    def __init__(
        self,
        path: Path,
        read_from: ReadFrom = ReadFrom.BEGINNING,
        follower_class: type[Follower] = Follower,
    ) -> None:
        self.follower_class = follower_class
        self.now = 0.0
        self.store = MemoryCheckpointStore()
        self.sink = MemorySink(self.store)
        options = ReaderOptions(idle_flush_seconds=0.5, timezone=UTC)
        self.source = ServerSource("survival", path, read_from, options)
        self.follower: Follower | None = None

    def start(self) -> Agent:
        """Start (or restart) the agent from the saved checkpoint."""
        if self.follower is not None:
            self.follower.close()
        self.follower = self.follower_class(
            self.source, self.sink, self.store, clock=lambda: self.now
        )
        self.follower.start()
        return self

    def drain(self) -> list[int]:
        """Step until idle, let the idle flush fire, and return all counters received."""
        assert self.follower is not None
        for _ in range(2):
            for _ in range(10_000):
                if not self.follower.step():
                    break
            else:
                raise AssertionError("follower never went idle")
            self.now += 1.0
        return self.counters()

    def counters(self) -> list[int]:
        """Counters of every entry delivered so far, in delivery order."""
        return [counter_of(entry.line) for entry in self.sink.entries]


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    return tmp_path / "survival" / "logs"


class TestLive:
    def test_appended_lines_in_order(self, logs: Path) -> None:
        """Lines appended to latest.log are delivered once each, in order."""
        writer = Log4jWriter(logs)
        agent = Agent(writer.latest).start()
        n = writer.lines(0, 100)
        assert agent.drain() == list(range(n))
        n = writer.lines(n, 100)
        assert agent.drain() == list(range(n))

    def test_checkpoint_is_end_of_last_entry(self, logs: Path) -> None:
        """Each delivery carries the checkpoint of the end of its last entry."""
        writer = Log4jWriter(logs)
        agent = Agent(writer.latest).start()
        writer.lines(0, 10)
        agent.drain()
        last = agent.sink.checkpoints[-1]
        assert last.offset == writer.latest.stat().st_size == agent.sink.entries[-1].end
        assert all(e.fingerprint == agent.sink.entries[0].fingerprint for e in agent.sink.entries)

    def test_partial_line_in_two_chunks(self, logs: Path) -> None:
        """A line written in two chunks is delivered once, whole, after its newline."""
        writer = Log4jWriter(logs)
        agent = Agent(writer.latest).start()
        line = mc_line(1)
        writer.write(mc_line(0) + line[:17])
        assert agent.drain() == [0]
        assert agent.sink.checkpoints[-1].offset == len(mc_line(0))
        assert agent.follower is not None and agent.follower.flush_deadline() is None
        writer.write(line[17:])
        assert agent.drain() == [0, 1]
        assert agent.sink.entries[-1].line == line.decode().rstrip("\n")

    def test_rotation_reads_old_file_to_its_end(self, logs: Path) -> None:
        """Lines written just before a log4j2 roll are read before the new latest.log."""
        writer = Log4jWriter(logs, gzip_async=False)
        agent = Agent(writer.latest).start()
        n = writer.lines(0, 50)
        agent.drain()
        n = writer.lines(n, 50)  # not yet read when the roll happens
        writer.rotate()
        n = writer.lines(n, 50)
        assert agent.drain() == list(range(n))

    def test_lines_written_between_end_and_roll_are_drained(self, logs: Path) -> None:
        """Lines written after the follower reached the end but before the roll are read."""
        writer = Log4jWriter(logs, gzip_async=False)
        race: list[int] = []

        class Racing(Follower):
            def _check_live(self, live: LiveFile) -> None:
                if not race:  # once: the writer acts between EOF and the path check
                    race.append(writer.lines(50, 25))
                    writer.rotate()
                super()._check_live(live)

        agent = Agent(writer.latest, follower_class=Racing).start()
        writer.lines(0, 50)
        agent.drain()  # reads 0..49; at the end the writer adds 50..74 and rolls
        n = writer.lines(75, 10)
        assert agent.drain() == list(range(n))

    @staticmethod
    def _failing_drain(writer: Log4jWriter, logs: Path, *, keep_rolled: bool) -> type[Follower]:
        """A follower whose rotated file fails to drain with a real OSError: the writer
        adds 50..74 and rolls between EOF and the path check, then the file's descriptor
        is replaced by a directory's, so the kernel refuses the read (EISDIR)."""

        class FailingDrain(Follower):
            def _rotated(self, live: LiveFile, *, gone: bool) -> None:
                directory = os.open(logs, os.O_RDONLY)
                os.dup2(directory, live._fd)  # the real read now fails
                os.close(directory)
                if not keep_rolled:
                    for rolled in logs.glob("2026-*.log*"):
                        rolled.unlink()
                super()._rotated(live, gone=gone)

            def _check_live(self, live: LiveFile) -> None:
                if not race:
                    race.append(writer.lines(50, 25))
                    writer.rotate()
                super()._check_live(live)

        race: list[int] = []
        return FailingDrain

    def test_drain_failure_reads_the_rest_from_the_rolled_file(self, logs: Path, caplog) -> None:
        """An OSError while draining a rotated file is logged with the path and counted; the
        unread rest comes from the rolled .gz, then the new file: nothing lost or repeated."""
        writer = Log4jWriter(logs, gzip_async=False)
        follower_class = self._failing_drain(writer, logs, keep_rolled=True)
        agent = Agent(writer.latest, follower_class=follower_class).start()
        writer.lines(0, 50)
        with caplog.at_level(logging.INFO):
            agent.drain()
            n = writer.lines(75, 10)
            assert agent.drain() == list(range(n))
        assert agent.follower is not None and agent.follower.drain_failures == 1
        failed = [
            r.getMessage() for r in caplog.records if events.FILE_DRAIN_FAILED in r.getMessage()
        ]
        assert len(failed) == 1 and str(writer.latest) in failed[0]

    def test_drain_failure_without_rolled_file_reports_the_loss(self, logs: Path, caplog) -> None:
        """When no rolled file holds the rest, what was read is kept, the loss is reported
        with the offset (file.lost), and the new file is followed."""
        writer = Log4jWriter(logs, gzip_async=False)
        follower_class = self._failing_drain(writer, logs, keep_rolled=False)
        agent = Agent(writer.latest, follower_class=follower_class).start()
        writer.lines(0, 50)
        with caplog.at_level(logging.INFO):
            agent.drain()
            n = writer.lines(75, 10)
            assert agent.drain() == [*range(50), *range(75, n)]
        assert agent.follower is not None and agent.follower.drain_failures == 1
        lost = [
            r.getMessage() for r in caplog.records if r.getMessage().startswith(events.FILE_LOST)
        ]
        assert len(lost) == 1 and str(writer.latest) in lost[0]

    def test_two_rolls_between_looks_are_both_read(self, logs: Path) -> None:
        """Two rolls before the follower looks again: the middle file is not skipped."""
        writer = Log4jWriter(logs, gzip_async=False)
        agent = Agent(writer.latest).start()
        n = writer.lines(0, 20)
        agent.drain()
        n = writer.lines(n, 20)
        writer.rotate()
        n = writer.lines(n, 20)
        writer.rotate()
        n = writer.lines(n, 20)
        assert agent.drain() == list(range(n))

    def test_copytruncate_restarts_at_zero(self, logs: Path) -> None:
        """copytruncate: the file shrinks, reading restarts at 0 of the new content."""
        writer = Log4jWriter(logs)
        agent = Agent(writer.latest).start()
        n = writer.lines(0, 100)
        agent.drain()
        shutil.copy(writer.latest, logs / "latest.log.1")
        os.truncate(writer.latest, 0)
        n = writer.lines(n, 30)  # O_APPEND: written from offset 0
        assert agent.drain() == list(range(n))

    def test_truncated_and_rewritten_longer_is_noticed(self, logs: Path) -> None:
        """Emptied and refilled past the old offset before a look: the head change tells."""
        writer = Log4jWriter(logs)
        agent = Agent(writer.latest).start()
        n = writer.lines(0, 20)
        agent.drain()
        os.truncate(writer.latest, 0)
        n = writer.lines(n, 200)
        assert agent.drain() == list(range(n))

    def test_deleted_and_recreated_with_other_content(self, logs: Path) -> None:
        """latest.log deleted and created again: the old file is finished, the new read from 0."""
        writer = Log4jWriter(logs)
        agent = Agent(writer.latest).start()
        n = writer.lines(0, 30)
        agent.drain()
        writer.close()
        writer.latest.unlink()
        writer = Log4jWriter(logs)
        n = writer.lines(n, 30)
        assert agent.drain() == list(range(n))

    def test_short_file_fingerprint_is_upgraded(self, logs: Path) -> None:
        """A file shorter than 4 KiB is followed; its fingerprint widens as it grows."""
        writer = Log4jWriter(logs)
        agent = Agent(writer.latest).start()
        writer.lines(0, 2)
        agent.drain()
        assert not is_complete(agent.sink.checkpoints[-1].fingerprint)
        writer.lines(2, 200)
        agent.drain()
        assert is_complete(agent.sink.checkpoints[-1].fingerprint)
        assert agent.counters() == list(range(202))


class TestStartPosition:
    def test_first_install_read_from_end_skips_a_large_file(self, logs: Path) -> None:
        """read_from=end on first install: a large existing log is not shipped."""
        writer = Log4jWriter(logs)
        n = writer.lines(0, 50_000)
        agent = Agent(writer.latest, ReadFrom.END).start()
        assert agent.drain() == []
        writer.lines(n, 5)
        assert agent.drain() == list(range(n, n + 5))

    def test_read_from_end_keeps_a_partial_last_line(self, logs: Path) -> None:
        """Starting at the end, a line still being written is read once it completes."""
        writer = Log4jWriter(logs)
        writer.lines(0, 10)
        writer.write(mc_line(10)[:12])
        agent = Agent(writer.latest, ReadFrom.END).start()
        assert agent.drain() == []
        writer.write(mc_line(10)[12:])
        writer.lines(11, 1)
        assert agent.drain() == [10, 11]

    def test_first_install_read_from_beginning(self, logs: Path) -> None:
        """read_from=beginning ships the whole existing file."""
        writer = Log4jWriter(logs)
        writer.lines(0, 100)
        assert Agent(writer.latest, ReadFrom.BEGINNING).start().drain() == list(range(100))

    def test_file_appearing_while_running_is_read_from_beginning(self, logs: Path) -> None:
        """A log that did not exist at start is read from 0 even with read_from=end."""
        agent = Agent(logs / "latest.log", ReadFrom.END).start()
        assert agent.drain() == []
        writer = Log4jWriter(logs)
        writer.lines(0, 10)
        assert agent.drain() == list(range(10))

    def test_restart_resumes_at_checkpoint(self, logs: Path) -> None:
        """An agent restart resumes at the saved offset: nothing lost, nothing repeated."""
        writer = Log4jWriter(logs)
        agent = Agent(writer.latest, ReadFrom.END).start()
        agent.drain()  # opened (empty) before anything is written
        n = writer.lines(0, 40)
        agent.drain()
        n = writer.lines(n, 40)
        assert agent.start().drain() == list(range(n))


class TestRotationWhileStopped:
    @pytest.mark.parametrize("restarts", [1, 2, 3])
    def test_server_restarts_while_agent_stopped(self, logs: Path, restarts: int) -> None:
        """Rolls while the agent is down: rest of the old file, each rolled file, latest."""
        writer = Log4jWriter(logs)
        agent = Agent(writer.latest).start()
        n = writer.lines(0, 100)
        agent.drain()
        agent.follower.close()  # type: ignore[union-attr]
        n = writer.lines(n, 37)  # the unread rest of the checkpointed file
        for _ in range(restarts):
            writer.rotate()
            n = writer.lines(n, 50)
        writer.close()  # gzip done: only .log.gz files are left
        assert sorted(p.suffix for p in logs.iterdir()).count(".gz") == restarts
        assert agent.start().drain() == list(range(n))

    def test_rolled_file_entries_dated_by_file_name(self, logs: Path) -> None:
        """Entries read from a rolled YYYY-MM-DD-N file carry that date."""
        writer = Log4jWriter(logs, day="2025-03-09", gzip_async=False)
        agent = Agent(writer.latest).start()
        n = writer.lines(0, 10)
        agent.drain()
        agent.follower.close()  # type: ignore[union-attr]
        writer.lines(n, 10)
        writer.rotate()
        agent.start().drain()
        caught_up = agent.sink.entries[10:]
        assert {e.timestamp.date() for e in caught_up if e.timestamp} == {date(2025, 3, 9)}
        assert len(caught_up) == 10

    def test_rolled_file_still_plain_while_gzip_pending(self, logs: Path) -> None:
        """A roll whose gzip has not run yet (plain .log) is found and finished too."""
        writer = Log4jWriter(logs)
        agent = Agent(writer.latest).start()
        n = writer.lines(0, 100)
        agent.drain()
        agent.follower.close()  # type: ignore[union-attr]
        n = writer.lines(n, 10)
        writer.gzip_async = False
        writer.rotate()
        # Undo the compression: the rolled file exists only as a plain .log.
        rolled = logs / "2026-11-21-1.log.gz"
        (logs / "2026-11-21-1.log").write_bytes(gzip.decompress(rolled.read_bytes()))
        rolled.unlink()
        n = writer.lines(n, 10)
        assert agent.start().drain() == list(range(n))

    def test_checkpoint_in_short_file_found_after_roll(self, logs: Path) -> None:
        """A checkpoint taken while the file was under 4 KiB is still found once rolled."""
        writer = Log4jWriter(logs)
        agent = Agent(writer.latest).start()
        n = writer.lines(0, 3)
        agent.drain()
        agent.follower.close()  # type: ignore[union-attr]
        n = writer.lines(n, 300)
        writer.rotate()
        n = writer.lines(n, 5)
        writer.close()
        assert agent.start().drain() == list(range(n))

    def test_replaced_by_other_file_of_same_size(self, logs: Path, caplog) -> None:
        """A file replaced by another of the same size is told apart by its fingerprint."""
        writer = Log4jWriter(logs)
        agent = Agent(writer.latest).start()
        writer.lines(1000, 100)
        agent.drain()
        agent.follower.close()  # type: ignore[union-attr]
        size = writer.latest.stat().st_size
        writer.close()
        writer.latest.unlink()
        writer = Log4jWriter(logs)
        writer.lines(2000, 100)
        assert writer.latest.stat().st_size == size
        with caplog.at_level(logging.WARNING):
            counters = agent.start().drain()
        assert counters == [*range(1000, 1100), *range(2000, 2100)]
        assert any(r.getMessage().startswith(events.FILE_LOST) for r in caplog.records)

    def test_corrupt_rolled_file_is_skipped_loudly(self, logs: Path, caplog) -> None:
        """An unreadable rolled file is logged and counted; the files after it are read."""
        writer = Log4jWriter(logs, gzip_async=False)
        agent = Agent(writer.latest).start()
        n = writer.lines(0, 10)
        agent.drain()
        agent.follower.close()  # type: ignore[union-attr]
        writer.rotate()  # 2026-11-21-1: holds the checkpoint
        m = writer.lines(n, 10)
        writer.rotate()  # 2026-11-21-2: corrupted below
        k = writer.lines(m, 10)
        (logs / "2026-11-21-2.log.gz").write_bytes(b"\x1f\x8b\x08\x00" + bytes(6) + b"\xff" * 50)
        with caplog.at_level(logging.ERROR):
            counters = agent.start().drain()
        assert counters == [*range(n), *range(m, k)]
        assert agent.follower is not None and agent.follower.unreadable_files == 1
        assert any(r.getMessage().startswith(events.FILE_UNREADABLE) for r in caplog.records)

    def test_cut_short_rolled_gz_is_read_up_to_the_cut(self, logs: Path, caplog) -> None:
        """A rolled .gz cut short in catch-up: its readable lines are delivered (the cut
        line too, as it stands), it is logged and counted as cut short, not unreadable,
        and the files after it are read."""
        writer = Log4jWriter(logs, gzip_async=False)
        agent = Agent(writer.latest).start()
        n = writer.lines(0, 10)
        agent.drain()
        agent.follower.close()  # type: ignore[union-attr]
        writer.rotate()  # 2026-11-21-1: holds the checkpoint
        m = writer.lines(n, 300)
        broken = writer.rotate()  # 2026-11-21-2: cut below
        original = gzip.decompress(broken.read_bytes()).decode().splitlines()
        broken.write_bytes(broken.read_bytes()[: broken.stat().st_size // 2])
        k = writer.lines(m, 10)
        with caplog.at_level(logging.WARNING):
            agent.start().drain()
        lines = [entry.line for entry in agent.sink.entries]
        middle = lines[n : len(lines) - (k - m)]
        assert [counter_of(line) for line in lines[:n]] == list(range(n))
        assert [counter_of(line) for line in lines[len(lines) - (k - m) :]] == list(range(m, k))
        assert 0 < len(middle) < len(original)
        # Every readable byte, the cut line as it stands (joined to the entry before it).
        assert "\n".join(original).startswith("\n".join(middle))
        assert len("\n".join(middle)) > len("\n".join(original[: len(middle)]))
        follower = agent.follower
        assert follower is not None
        assert (follower.cut_short_files, follower.unreadable_files) == (1, 0)
        assert any(r.getMessage().startswith(events.FILE_CUT_SHORT) for r in caplog.records)

    def test_empty_rolled_file_is_not_unreadable(self, logs: Path, caplog) -> None:
        """An empty rolled file has nothing to read: logged as empty, not as unreadable."""
        writer = Log4jWriter(logs, gzip_async=False)
        agent = Agent(writer.latest).start()
        n = writer.lines(0, 10)
        agent.drain()
        agent.follower.close()  # type: ignore[union-attr]
        writer.rotate()
        (logs / "2026-11-21-2.log.gz").write_bytes(gzip.compress(b""))
        writer.next_n = 2
        k = writer.lines(n, 10)
        with caplog.at_level(logging.INFO):
            assert agent.start().drain() == list(range(k))
        assert agent.follower is not None and agent.follower.unreadable_files == 0
        assert any(r.getMessage().startswith(events.FILE_EMPTY) for r in caplog.records)
        assert not any(r.getMessage().startswith(events.FILE_UNREADABLE) for r in caplog.records)


class TestOtherLayouts:
    def test_pre17_server_log(self, tmp_path: Path) -> None:
        """A pre-1.7 server.log (never rotated) is followed, across an agent restart."""
        path = tmp_path / "server.log"
        with path.open("ab") as log:
            log.writelines(pre17_line(n) for n in range(20))
        agent = Agent(path).start()
        assert agent.drain() == list(range(20))
        with path.open("ab") as log:
            log.writelines(pre17_line(n) for n in range(20, 30))
        assert agent.start().drain() == list(range(30))

    def test_proxy_log_rolled_by_size_while_running(self, tmp_path: Path) -> None:
        """BungeeCord proxy.log.0 rolled to .1 while followed: read to its end, then new .0."""
        writer = JulWriter(tmp_path)
        agent = Agent(writer.current).start()
        n = writer.lines(0, 30)
        agent.drain()
        n = writer.lines(n, 30)
        writer.rotate()
        n = writer.lines(n, 30)
        assert agent.drain() == list(range(n))

    def test_proxy_log_rolled_twice_while_stopped(self, tmp_path: Path) -> None:
        """Two size rolls while stopped: the checkpoint is found in proxy.log.2."""
        writer = JulWriter(tmp_path)
        agent = Agent(writer.current).start()
        n = writer.lines(0, 30)
        agent.drain()
        agent.follower.close()  # type: ignore[union-attr]
        for _ in range(2):
            n = writer.lines(n, 30)
            writer.rotate()
        n = writer.lines(n, 30)
        assert agent.start().drain() == list(range(n))


class TestWaiting:
    def test_missing_file_logged_once(self, logs: Path, caplog) -> None:
        """A missing log is waited for with one message, not one per look."""
        agent = Agent(logs / "latest.log").start()
        with caplog.at_level(logging.INFO):
            for _ in range(5):
                agent.drain()
            Log4jWriter(logs).lines(0, 3)
            assert agent.drain() == [0, 1, 2]
        messages = [r.getMessage() for r in caplog.records]
        assert sum(m.startswith(events.FILE_MISSING) for m in messages) == 1
        assert sum(m.startswith(events.FILE_FOUND) for m in messages) == 1

    def test_path_that_is_not_a_file_logged_once(self, logs: Path, caplog) -> None:
        """A directory where the log should be is waited on (one message), never a crash."""
        (logs / "latest.log").mkdir(parents=True)
        agent = Agent(logs / "latest.log").start()
        with caplog.at_level(logging.WARNING):
            for _ in range(3):
                assert agent.drain() == []
        assert sum(r.getMessage().startswith(events.FILE_UNREADABLE) for r in caplog.records) == 1
        (logs / "latest.log").rmdir()
        Log4jWriter(logs).lines(0, 3)
        assert agent.drain() == [0, 1, 2]

    @pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
    def test_unreadable_file_logged_once(self, logs: Path, caplog) -> None:
        """A log without read permission is waited for with one message, then read."""
        writer = Log4jWriter(logs)
        writer.lines(0, 3)
        writer.latest.chmod(0)
        agent = Agent(writer.latest).start()
        with caplog.at_level(logging.WARNING):
            agent.drain()
            agent.drain()
        assert sum(r.getMessage().startswith(events.FILE_UNREADABLE) for r in caplog.records) == 1
        writer.latest.chmod(0o600)
        assert agent.drain() == [0, 1, 2]


class TestPhase:
    def test_phase_waiting_then_live_then_catch_up(self, logs: Path) -> None:
        """The phase names the state: waiting for the path, live, catching up rolled files."""
        agent = Agent(logs / "latest.log").start()
        assert agent.follower is not None
        assert not agent.follower.step()
        assert agent.follower.phase is Phase.WAITING
        writer = Log4jWriter(logs, gzip_async=False)
        n = writer.lines(0, 10)
        agent.drain()
        assert agent.follower.phase is Phase.LIVE
        agent.follower.close()
        n = writer.lines(n, 10)
        writer.rotate()
        agent.start()
        assert agent.follower.step(budget=1)  # one chunk of the rolled file
        assert agent.follower.phase is Phase.CATCH_UP
        n = writer.lines(n, 10)
        assert agent.drain() == list(range(n))
        assert agent.follower.phase is Phase.LIVE


STEVE_UUID = "8667ba71-b85a-4004-af54-457a9734eed7"
UUID_LINE = f"[10:00:00] [User Authenticator #1/INFO]: UUID of player Steve is {STEVE_UUID}\n"


def chat(n: int) -> bytes:
    return f"[10:00:{n:02}] [Server thread/INFO]: <Steve> message {n}\n".encode()


def note(n: int) -> bytes:
    """A line about no player: it leaves the server's context as it was."""
    return f"[10:00:{n:02}] [Server thread/INFO]: Preparing spawn area: {n}%\n".encode()


def drained(agent: Agent) -> list[str]:
    """Step the agent until idle (idle flush included); the messages delivered so far."""
    assert agent.follower is not None
    for _ in range(2):
        while agent.follower.step():
            pass
        agent.now += 1.0
    return [entry.message for entry in agent.sink.entries]


class TestContextAcrossRestarts:
    def test_uuids_survive_a_restart(self, logs: Path) -> None:
        """A UUID learnt before a restart enriches lines read after it (the context is
        restored with the checkpoint), and no line is read twice."""
        logs.mkdir(parents=True)
        latest = logs / "latest.log"
        latest.write_bytes(UUID_LINE.encode() + chat(1))
        agent = Agent(latest).start()
        assert len(drained(agent)) == 2
        with latest.open("ab") as out:
            out.write(chat(2))
        agent.start()  # a new follower: a fresh context, restored from the store
        assert drained(agent)[1:] == ["<Steve> message 1", "<Steve> message 2"]
        assert agent.sink.entries[-1].fields["uuid"] == STEVE_UUID

    def test_context_is_handed_on_only_when_it_changed(self, logs: Path) -> None:
        """Deliveries that changed nothing carry no snapshot (nothing is serialized)."""
        logs.mkdir(parents=True)
        latest = logs / "latest.log"
        latest.write_bytes(note(1))
        agent = Agent(latest).start()
        drained(agent)
        with latest.open("ab") as out:
            out.write(UUID_LINE.encode())
        drained(agent)
        with latest.open("ab") as out:
            out.write(note(2))
        drained(agent)
        first, learnt, last = agent.sink.contexts
        assert first is None and last is None
        assert learnt is not None and learnt["uuids"] == {"Steve": STEVE_UUID}

    def test_snapshot_is_the_context_at_the_checkpoint(self, logs: Path) -> None:
        """A UUID line still pending (not committed) is not in the saved context: after a
        restart it is read again from the checkpoint and learnt then, once."""
        logs.mkdir(parents=True)
        latest = logs / "latest.log"
        latest.write_bytes(note(1) + UUID_LINE.encode())
        agent = Agent(latest).start()
        assert agent.follower is not None
        while agent.follower.step():  # read all, no idle flush: the UUID line is pending
            pass
        assert agent.sink.checkpoints[-1].offset == len(note(1))
        assert agent.store.server_context("survival") is None  # nothing learnt at offset
        agent.start()
        drained(agent)
        with latest.open("ab") as out:
            out.write(chat(2))
        drained(agent)
        messages = [entry.message for entry in agent.sink.entries]
        assert messages == [
            "Preparing spawn area: 1%",
            UUID_LINE.split("]: ", 1)[1].rstrip(),
            "<Steve> message 2",
        ]
        assert agent.sink.entries[-1].fields["uuid"] == STEVE_UUID
        saved = agent.store.server_context("survival")
        assert saved is not None and saved["uuids"] == {"Steve": STEVE_UUID}
