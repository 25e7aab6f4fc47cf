"""The state directory is created in one place: mode 0700, one clear error naming state.dir."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from agent.app.check import run_checks
from agent.app.config import AgentConfig
from agent.app.wiring import build_encoder, open_spool
from agent.errors import AgentError
from agent.metrics import Metrics
from agent.ship.transport import Answer
from agent.state.deadletter import DeadLetterFile
from agent.state.spool import SPOOL_FILE, Spool, SpoolOptions
from agent.state.statedir import ensure_state_dir
from agent.testing import FakeTransport


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The config is built from the test's values only, not the caller's SERVEROPS_*."""
    for name in [n for n in os.environ if n.startswith("SERVEROPS_")]:
        monkeypatch.delenv(name)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def blocked(tmp_path: Path) -> Path:
    """A state dir that cannot be created (its parent is a regular file), even as root."""
    (tmp_path / "file").write_text("in the way")
    return tmp_path / "file" / "state"


class TestEnsureStateDir:
    def test_creates_missing_directories_0700(self, tmp_path: Path) -> None:
        """A missing state dir (and its parents) is created; the dir itself is 0700."""
        state = tmp_path / "var" / "lib" / "agent"
        assert ensure_state_dir(state) == state
        assert state.is_dir() and mode(state) == 0o700

    def test_keeps_an_existing_directorys_mode(self, tmp_path: Path) -> None:
        """An operator's existing directory is used as it is, not chmod-ed."""
        state = tmp_path / "state"
        state.mkdir(mode=0o750)
        state.chmod(0o750)
        ensure_state_dir(state)
        assert mode(state) == 0o750

    def test_uncreatable_names_the_config_key(self, tmp_path: Path) -> None:
        """A directory that cannot be created is an AgentError naming state.dir and the path."""
        state = blocked(tmp_path)
        with pytest.raises(AgentError, match=re.escape(f"state.dir: cannot create {state}")):
            ensure_state_dir(state)


class TestEveryWriterUsesIt:
    def test_spool_creates_its_directory_the_same_way(self, tmp_path: Path) -> None:
        """Opening a spool creates the state dir 0700, or fails with the state.dir error."""
        Spool(SpoolOptions(tmp_path / "state" / SPOOL_FILE)).close()
        assert mode(tmp_path / "state") == 0o700
        with pytest.raises(AgentError, match=r"state\.dir: cannot create"):
            Spool(SpoolOptions(blocked(tmp_path) / SPOOL_FILE))

    def test_dead_letter_file_creates_its_directory_the_same_way(self, tmp_path: Path) -> None:
        """The first dead letter creates the state dir 0700, or fails with the same error."""
        DeadLetterFile(tmp_path / "state" / "dead.ndjson").write(
            event_id="e", server_id="s", status=400, answer=b"{}", body=b"{}"
        )
        assert mode(tmp_path / "state") == 0o700
        with pytest.raises(AgentError, match=r"state\.dir: cannot create"):
            DeadLetterFile(blocked(tmp_path) / "dead.ndjson").write(
                event_id="e", server_id="s", status=400, answer=b"{}", body=b"{}"
            )

    def test_ip_key_and_spool_from_the_config(self, tmp_path: Path) -> None:
        """ip = hash creates the state dir 0700 for its key; the spool then opens in it."""
        config = AgentConfig.model_validate(
            {"state": {"dir": tmp_path / "state"}, "filters": {"ip": "hash"}}
        )
        build_encoder(config, Metrics(), dry_run=False)
        assert mode(tmp_path / "state") == 0o700
        assert mode(tmp_path / "state" / "ip-hash.key") == 0o600
        open_spool(config, Metrics()).close()
        assert (tmp_path / "state" / SPOOL_FILE).exists()

    def test_uncreatable_state_dir_from_the_config(self, tmp_path: Path) -> None:
        """The wiring reports an uncreatable [state] dir with the same message."""
        config = AgentConfig.model_validate({"state": {"dir": blocked(tmp_path)}})
        with pytest.raises(AgentError, match=r"state\.dir: cannot create"):
            open_spool(config, Metrics())

    def test_check_reports_an_uncreatable_state_dir(self, tmp_path: Path) -> None:
        """`check` fails its state dir line with the same message (and sends nothing)."""
        config = AgentConfig.model_validate({"state": {"dir": blocked(tmp_path)}})
        transport = FakeTransport(lambda body, key: Answer(599, None, b""))
        results = {r.name: r for r in run_checks(config, transport=transport)}
        assert not results["state dir"].ok
        assert results["state dir"].detail.startswith("state.dir: cannot create")
