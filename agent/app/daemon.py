"""The daemon: ``serverops-agent run``. Owns signals, systemd notify/watchdog and shutdown.

One event loop, in the main thread: the tailer follows the logs and writes entries +
checkpoints to the spool (its passes are loop callbacks: agent/sources/tail/loop.py), the
uploader drains the spool; no thread hand-off between them (bench/README.md "## host").

* SIGTERM / SIGINT: stop reading, let requests in flight finish within
  ``api.shutdown_deadline_seconds``, exit 0. Nothing is lost: what was read is in the
  spool, what was not is still in the log after the checkpoint.
* SIGHUP: re-read the config. A config error is logged and the old config kept. The token
  is re-read at once. Servers, reader limits and filters take effect by restarting the
  tailer, which resumes every server from its committed checkpoint (no line lost or
  repeated: a checkpoint only ever covers entries already in the spool). ``[api]``,
  ``[state]``, ``[spool]`` and ``[metrics]`` changes need a restart (logged).
* WATCHDOG=1 is sent only while the tailer, the event loop and the uploader (its
  feeder and every worker: ``Uploader.alive``) are alive, so systemd restarts an agent
  that hangs; an uploader that ended makes the daemon exit 1, and so does a tailer that
  failed (e.g. the spool cannot write: logged as ``tail.failed``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from agent import events
from agent.app.config import AgentConfig, load_config
from agent.app.notify import Notifier, watchdog_interval_seconds
from agent.app.wiring import (
    build_encoder,
    build_sources,
    build_uploader,
    ensure_state_dir,
    open_spool,
    token_provider,
)
from agent.errors import AgentError, ConfigError
from agent.metrics import Metrics
from agent.ship.uploader import Uploader
from agent.sources.tail.loop import LoopTailer
from agent.sources.tail.sink import CheckpointStore, MemoryCheckpointStore, Sink
from agent.sources.tail.tailer import Tailer
from agent.state import lock as state_lock
from agent.state.sinks import PrintSink, SpoolSink
from agent.state.spool import Spool

log = logging.getLogger(__name__)

STATUS_INTERVAL_SECONDS = 5.0
_RESTART_KEYS = ("api", "state", "spool", "metrics")


class DaemonTailer:
    """The tailer on the daemon's event loop, restartable with new sources (SIGHUP).

    ``on_failure`` is called (in the loop) when a pass raised: the daemon then stops."""

    def __init__(
        self,
        config: AgentConfig,
        sink: Sink,
        store: CheckpointStore,
        metrics: Metrics | None = None,
        on_failure: Callable[[], object] | None = None,
    ) -> None:
        tailer = Tailer(build_sources(config), sink, store, metrics=metrics)
        self._on_failure = on_failure
        self._driver = LoopTailer(tailer, on_failure=self._failed)

    def start(self) -> None:
        """Start following (in the running loop)."""
        self._driver.start()

    def _failed(self, exc: BaseException) -> None:
        log.error(
            "%s: the tailer stopped: %s",
            events.TAIL_FAILED,
            exc,
            exc_info=(type(exc), exc, exc.__traceback__),
        )
        if self._on_failure is not None:
            self._on_failure()

    @property
    def alive(self) -> bool:
        """True while it follows (not stopped, not failed)."""
        return self._driver.alive

    @property
    def failure(self) -> BaseException | None:
        """The exception that stopped the tailer, if any."""
        return self._driver.failure

    def stop(self) -> None:
        """Stop after the current pass (at once: no pass runs while this runs)."""
        self._driver.stop()


class Daemon:
    """One run of the agent, from start to a clean exit."""

    def __init__(self, config_path: Path | None, config: AgentConfig, *, dry_run: bool) -> None:
        self.config_path = config_path
        self.config = config
        self.dry_run = dry_run
        self.metrics = Metrics()
        self.notifier = Notifier()
        self.spool: Spool | None = None
        self.uploader: Uploader | None = None
        self._stop = asyncio.Event()
        self._uploader_died = False  # the watchdog found the uploader dead: exit 1
        if dry_run:
            self.store: CheckpointStore = MemoryCheckpointStore()
            self.sink: PrintSink | SpoolSink = PrintSink(
                build_encoder(config, self.metrics, dry_run=True)
            )
        else:
            token = token_provider(config)  # a bad token: exit 2 before the spool is made
            self.spool = open_spool(config, self.metrics)
            self.store = self.spool
            self.uploader = build_uploader(config, self.spool, self.metrics, token)
            self.sink = SpoolSink(self.spool, build_encoder(config, self.metrics, dry_run=False))
        self.tailer = self._new_tailer(config)

    def _new_tailer(self, config: AgentConfig) -> DaemonTailer:
        return DaemonTailer(config, self.sink, self.store, self.metrics, self._stop.set)

    async def run(self) -> int:
        """Run until a stop signal; return the exit code."""
        self._install_signals()
        if self.config.metrics.enabled:
            self.metrics.serve(self.config.metrics.address, self.config.metrics.port)
        self.tailer.start()
        heartbeat = asyncio.create_task(self._heartbeat())
        sender = asyncio.create_task(self._send())
        servers = ", ".join(server.id for server in self.config.servers) or "none"
        log.info(
            "%s: following %s%s",
            events.AGENT_STARTED,
            servers,
            " (dry run)" if self.dry_run else "",
        )
        self.notifier.ready(f"following {len(self.config.servers)} server(s)")
        try:
            await self._stop.wait()
        finally:
            self.notifier.stopping("stopping")
            log.info("%s: finishing requests in flight", events.AGENT_STOPPING)
            self.tailer.stop()
            if self.uploader is not None:
                self.uploader.request_stop()
            code = await self._finish(sender, heartbeat)
        return code

    async def _send(self) -> None:
        if self.uploader is None:
            return
        try:
            await self.uploader.run()
        except Exception as exc:  # any: exit 1 with one line, so systemd restarts us
            log.error("%s: %s: %s; exiting 1", events.SHIP_FAILED, type(exc).__name__, exc)
            self._stop.set()
            raise

    async def _finish(self, sender: asyncio.Task[None], heartbeat: asyncio.Task[None]) -> int:
        heartbeat.cancel()
        code = 0
        try:
            await sender
        except Exception:  # logged by _send
            code = 1
        if self._uploader_died:
            code = 1
        if self.tailer.failure is not None:
            code = 1
        if self.spool is not None:
            self._publish_status()
            self.spool.close()
        log.info("%s: exit code %d", events.AGENT_STOPPED, code)
        return code

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._stop.set)
        loop.add_signal_handler(signal.SIGHUP, self.reload)

    async def _heartbeat(self) -> None:
        interval = watchdog_interval_seconds()
        period = min(interval or STATUS_INTERVAL_SECONDS, STATUS_INTERVAL_SECONDS)
        while True:
            if not self.tailer.alive and not self._stop.is_set():
                log.error("%s: the tailer ended; stopping so systemd restarts", events.TAIL_FAILED)
                self._stop.set()
                return
            if self.uploader is not None and not self.uploader.alive and not self._stop.is_set():
                log.error("%s: the uploader stopped; exiting 1 for a restart", events.SHIP_FAILED)
                self._uploader_died = True
                self._stop.set()
                return
            if interval is not None:
                self.notifier.watchdog()
            if self.spool is not None:
                self._publish_status()
            await asyncio.sleep(period)

    def _publish_status(self) -> None:
        assert self.spool is not None and self.uploader is not None
        status = self.uploader.status()
        last = self.metrics.total(self.metrics.last_success)
        values = {
            "pid": str(os.getpid()),
            "paused": status.paused or "",
            "last_error": status.last_error or "none",
            "last_success": _iso(last) if last else "never",
            "in_flight": str(status.pending),
        }
        try:
            self.spool.publish_status(values, time.time())
        except AgentError as exc:
            log.warning("%s: %s", events.STATUS_PUBLISH_FAILED, exc)

    def reload(self) -> None:
        """SIGHUP: new config, new token, new servers; without losing or repeating lines."""
        self.notifier.reloading("reloading the configuration")
        try:
            new = load_config(self.config_path)
        except ConfigError as exc:
            log.error("%s: %s; keeping the running configuration", events.CONFIG_RELOAD_FAILED, exc)
            self.notifier.ready("reload failed; running with the previous configuration")
            return
        for key in _RESTART_KEYS:
            if _restart_view(new, key) != _restart_view(self.config, key):
                log.warning(
                    "%s: [%s] changed; restart the agent to apply",
                    events.CONFIG_RESTART_NEEDED,
                    key,
                )
        if self.uploader is not None:
            self.uploader.reload_token()
        self.tailer.stop()
        self.config = new
        self.sink.encoder = build_encoder(new, self.metrics, dry_run=self.dry_run)
        self.tailer = self._new_tailer(new)
        self.tailer.start()
        log.info("%s: following %d server(s)", events.CONFIG_RELOADED, len(new.servers))
        self.notifier.ready(f"following {len(new.servers)} server(s)")


def _restart_view(config: AgentConfig, key: str) -> object:
    """The part of a section that needs a restart to change (the token does not)."""
    section = getattr(config, key)
    return section.model_dump(exclude={"token", "token_file"} if key == "api" else None)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed (bench/README.md "## host": it takes less
    CPU per request); else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(config_path: Path | None, config: AgentConfig, *, dry_run: bool) -> int:
    """Run the daemon until stopped; return the exit code (ConfigError propagates).

    Holds the state dir's lock (agent/state/lock.py) for the whole run, so a second agent
    on the same state dir exits 2 instead of sending every line twice; a daemon still
    draining gets ``lock.WAIT_SECONDS`` to finish. A dry run writes no state: no lock.
    """
    lock = None
    if not dry_run:
        lock = state_lock.acquire(ensure_state_dir(config), wait_seconds=state_lock.WAIT_SECONDS)
    try:
        daemon = Daemon(config_path, config, dry_run=dry_run)
        with (
            contextlib.suppress(KeyboardInterrupt),
            asyncio.Runner(loop_factory=_loop_factory()) as runner,
        ):
            return runner.run(daemon.run())
        return 0
    finally:
        if lock is not None:
            lock.release()
