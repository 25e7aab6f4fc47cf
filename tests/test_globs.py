"""Log globs and id templates (agent/sources/globs.py), and their checks at config load."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.app.config import load_config
from agent.errors import ConfigError
from agent.sources import globs


def server_dir(root: Path, *parts: str) -> Path:
    """``root/parts.../logs/latest.log`` created, returned."""
    logs = root.joinpath(*parts, "logs")
    logs.mkdir(parents=True)
    (logs / "latest.log").write_bytes(b"")
    return logs / "latest.log"


class TestCheckPattern:
    @pytest.mark.parametrize(
        ("server_id", "log"),
        [
            ("survival", "/srv/minecraft/survival/logs/latest.log"),
            ("{1}", "/var/lib/pterodactyl/volumes/*/logs/latest.log"),
            ("mc-{2}-{1}", "/srv/*/servers/*/logs/latest.log"),
            ("{1}", "/srv/mc-*/logs/latest.log"),
        ],
    )
    def test_valid(self, server_id: str, log: str) -> None:
        """Literal ids with plain paths, templates whose {N} name existing wildcards."""
        globs.check_pattern(server_id, log)

    @pytest.mark.parametrize(
        ("server_id", "log", "message"),
        [
            ("{2}", "/srv/*/logs/latest.log", r"id: \{2\} refers to a wildcard"),
            ("{1}", "/srv/survival/logs/latest.log", r"id: \{1\} refers to a wildcard"),
            ("all", "/srv/*/logs/latest.log", "has no {N}"),
            ("{1}", "/srv/**/logs/latest.log", r"log: '\*\*' is not supported"),
            ("{1}", "/srv/?/logs/latest.log", r"log: '\?' is not supported"),
            ("{1}", "/srv/[ab]/logs/latest.log", r"log: '\[' is not supported"),
            ("{1}", "/srv/mc/logs/*.log", "wildcard in the file name"),
            ("bad id {1}", "/srv/*/logs/latest.log", "does not match"),
            ("bad id", "/srv/x/logs/latest.log", "does not match"),
        ],
    )
    def test_refused(self, server_id: str, log: str, message: str) -> None:
        """Each mistake is a ValueError naming the key it is about."""
        with pytest.raises(ValueError, match=message):
            globs.check_pattern(server_id, log)


def test_fill_and_static_root() -> None:
    """{N} is the N-th * from the left; the root is the folder above the first wildcard."""
    assert globs.fill("mc-{2}-{1}", ["a", "b"]) == "mc-b-a"
    assert globs.static_root("/srv/mc-*/x/*/logs/latest.log") == Path("/srv")
    assert globs.static_root("/var/lib/pterodactyl/volumes/*/logs/latest.log") == Path(
        "/var/lib/pterodactyl/volumes"
    )


class TestExpand:
    def test_glob_matches_existing_files_sorted(self, tmp_path: Path) -> None:
        """Each existing file is a server with its filled id, in path order; a folder without
        the file, and a dot-folder, are not servers."""
        server_dir(tmp_path, "b")
        server_dir(tmp_path, "a")
        (tmp_path / "c" / "logs").mkdir(parents=True)
        server_dir(tmp_path, ".trash")
        found = globs.expand([("{1}", tmp_path / "*" / "logs" / "latest.log")])
        assert [(m.server_id, m.path.parent.parent.name) for m in found.matches] == [
            ("a", "a"),
            ("b", "b"),
        ]
        assert found.clashes == [] and found.invalid == []

    def test_literal_path_is_a_server_even_before_its_file_exists(self, tmp_path: Path) -> None:
        """A table without a wildcard stands for its server whether or not it started yet."""
        found = globs.expand([("lobby", tmp_path / "lobby" / "logs" / "latest.log")])
        assert [m.server_id for m in found.matches] == ["lobby"]

    def test_clash_first_in_config_order_wins(self, tmp_path: Path) -> None:
        """Two tables filling the same id: the earlier table keeps it, the later is dropped."""
        kept = server_dir(tmp_path / "one", "x")
        dropped = server_dir(tmp_path / "two", "x")
        found = globs.expand(
            [
                ("{1}", tmp_path / "one" / "*" / "logs" / "latest.log"),
                ("{1}", tmp_path / "two" / "*" / "logs" / "latest.log"),
            ]
        )
        assert [m.path for m in found.matches] == [kept]
        assert [(c.kept.path, c.dropped.path) for c in found.clashes] == [(kept, dropped)]

    def test_already_followed_server_keeps_its_id(self, tmp_path: Path) -> None:
        """At run time the server followed first wins, even over an earlier table."""
        early = server_dir(tmp_path / "one", "x")
        late = server_dir(tmp_path / "two", "x")
        tables = [
            ("{1}", tmp_path / "one" / "*" / "logs" / "latest.log"),
            ("{1}", tmp_path / "two" / "*" / "logs" / "latest.log"),
        ]
        followed = globs.Match(1, "x", late)
        found = globs.expand(tables, first=[followed])
        assert found.matches == [followed]
        assert [c.dropped.path for c in found.clashes] == [early]

    def test_invalid_filled_id_is_set_aside(self, tmp_path: Path) -> None:
        """A folder name that makes no valid id (a space) is reported, not followed."""
        server_dir(tmp_path, "My Server")
        found = globs.expand([("{1}", tmp_path / "*" / "logs" / "latest.log")])
        assert found.matches == []
        assert [m.server_id for m in found.invalid] == ["My Server"]


class TestLoad:
    def write(self, tmp_path: Path, servers: str) -> Path:
        config = tmp_path / "config.toml"
        config.write_text(f'[state]\ndir = "{tmp_path / "state"}"\n{servers}')
        return config

    def test_template_with_a_missing_wildcard_names_the_key(self, tmp_path: Path) -> None:
        """id = "{2}" with one * is a config error naming servers.0 and id."""
        config = self.write(
            tmp_path, f'[[servers]]\nid = "{{2}}"\nlog = "{tmp_path}/*/logs/latest.log"\n'
        )
        with pytest.raises(ConfigError, match=r"servers\.0: id: \{2\} refers to a wildcard"):
            load_config(config)

    def test_ids_clashing_at_load_name_the_key(self, tmp_path: Path) -> None:
        """A glob filling an id that a literal table already has: servers.1.id, both paths."""
        literal = server_dir(tmp_path / "static", "lobby")
        clashing = server_dir(tmp_path / "panel", "lobby")
        config = self.write(
            tmp_path,
            f'[[servers]]\nid = "lobby"\nlog = "{literal}"\n'
            f'[[servers]]\nid = "{{1}}"\nlog = "{tmp_path}/panel/*/logs/latest.log"\n',
        )
        with pytest.raises(ConfigError, match=r"servers\.1\.id: 'lobby'") as error:
            load_config(config)
        assert str(clashing) in str(error.value) and str(literal) in str(error.value)

    def test_two_globs_with_the_same_template_are_fine(self, tmp_path: Path) -> None:
        """Two tables may both use id = "{1}" as long as what they fill does not clash."""
        server_dir(tmp_path / "one", "a")
        server_dir(tmp_path / "two", "b")
        config = self.write(
            tmp_path,
            f'[[servers]]\nid = "{{1}}"\nlog = "{tmp_path}/one/*/logs/latest.log"\n'
            f'[[servers]]\nid = "{{1}}"\nlog = "{tmp_path}/two/*/logs/latest.log"\n'
            'read_from = "beginning"\n',
        )
        assert [s.read_from for s in load_config(config).servers] == ["end", "beginning"]
