"""A log that is not UTF-8, with no `encoding` set, is detected once per file (issue 11.7)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import orjson
from test_tail_follower import Agent
from typer.testing import CliRunner

from agent.app.config import load_config
from agent.app.wiring import build_sources
from agent.cli.main import app
from agent.model import Decoding
from agent.parse.encoding import detect, non_utf8_sample
from agent.parse.lines import LineSplitter
from agent.sources.tail.source import ReadFrom

# A BungeeCord proxy.log.0 written on a Chinese Windows host (GBK), levels localised.
BUNGEE = [
    "10:32:55 [信息] Listening on /0.0.0.0:25577",
    "10:33:01 [信息] [/203.0.113.5:51234] <-> InitialHandler has connected",
    "10:33:02 [信息] [小明] <-> ServerConnector [lobby] has connected",
    "10:33:05 [警告] 小明 断开连接: 超时",
    "10:34:00 [严重] 服务器错误",
]
GBK = "".join(line + "\n" for line in BUNGEE).encode("gbk")


def bodies_of(stdout: bytes) -> list[dict]:
    return [orjson.loads(line) for line in stdout.splitlines()]


class TestDetect:
    def test_gbk_level_lines_alone_are_not_taken_for_korean(self) -> None:
        """Only `[信息]` as non-ASCII text: charset-normalizer alone says cp949; the
        localised level name decides for a Chinese codec."""
        data = "".join(f"10:32:55 [信息] Listening {i}\n" for i in range(40)).encode("gbk")
        found = detect(non_utf8_sample(data))
        assert found is not None and data.decode(found).startswith("10:32:55 [信息]")

    def test_cp1251_chat(self) -> None:
        """Cyrillic chat in cp1251 decodes right."""
        text = "[10:00:00] [Server thread/INFO]: <Ivan> Привет всем, как дела?\n"
        data = (text * 3).encode("cp1251")
        found = detect(non_utf8_sample(data))
        assert found is not None and data.decode(found) == text * 3

    def test_sample_is_the_non_utf8_lines_bounded(self) -> None:
        """The sample holds only lines that are not UTF-8, at most the limit."""
        data = b"ascii\n" + "é utf8\n".encode() + b"\xe9 latin\n" * 1000
        sample = non_utf8_sample(data, limit=100)
        assert sample.startswith(b"\xe9 latin") and len(sample) <= 100
        assert detect(b"") is None

    def test_deterministic(self) -> None:
        """The same bytes give the same answer, every time."""
        assert len({detect(non_utf8_sample(GBK)) for _ in range(5)}) == 1


class TestSplitter:
    def test_detected_once_and_kept(self) -> None:
        """The first non-UTF-8 line decides; later lines use the answer (no re-detection)."""
        splitter = LineSplitter(detect_encoding=True)
        lines = splitter.feed(GBK)
        assert [line.text for line in lines] == BUNGEE
        assert {line.decoding for line in lines[1:]} == {Decoding.FALLBACK}
        detected = splitter.stats.detected
        assert detected is not None
        splitter.feed("10:35:00 [INFO] Привет\n".encode("cp1251"))
        assert splitter.stats.detected == detected and splitter.fallback_encoding == detected

    def test_explicit_encoding_is_authoritative(self) -> None:
        """An encoding given (utf-8 included) is never second-guessed."""
        splitter = LineSplitter(fallback_encoding="utf-8", detect_encoding=True)
        lines = splitter.feed(GBK)
        assert splitter.stats.detected is None
        assert lines[0].decoding is Decoding.REPLACED
        splitter = LineSplitter(fallback_encoding="big5", detect_encoding=True)
        splitter.feed(GBK)
        assert splitter.stats.detected is None and splitter.fallback_encoding == "big5"

    def test_without_detection_nothing_changes(self) -> None:
        """detect_encoding off (the library default): replacement characters, as before."""
        splitter = LineSplitter()
        assert splitter.feed(GBK)[0].decoding is Decoding.REPLACED


def test_parse_gbk_bungeecord_log_without_configuration(tmp_path: Path) -> None:
    """`parse` of a GBK proxy log: levels and names right, with no --encoding."""
    log = tmp_path / "proxy.log.0"
    log.write_bytes(GBK)
    args = ["parse", str(log), "--timezone", "UTC", "--date", "2026-11-01"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    bodies = bodies_of(result.stdout_bytes)
    assert [b["meta"]["log_level"] for b in bodies] == ["信息", "信息", "信息", "警告", "严重"]
    assert [b["level"] for b in bodies][-2:] == ["warn", "error"]
    assert bodies[2]["message"] == "[小明] <-> ServerConnector [lobby] has connected"
    result = CliRunner().invoke(app, [*args, "--encoding", "utf-8"])
    assert "信息" not in result.stdout_bytes.decode()  # explicit utf-8: replacement characters


def test_config_encoding_unset_means_detect(tmp_path: Path) -> None:
    """`encoding` not set: detection on; set (even to utf-8): that encoding, no detection."""
    config = tmp_path / "config.toml"
    base = f'[api]\nurl = "https://api.example.com"\n[state]\ndir = "{tmp_path}"\n'
    server = '[[servers]]\nid = "{id}"\nlog = "/srv/{id}/logs/latest.log"\n'
    config.write_text(
        base
        + server.format(id="a")
        + server.format(id="b")
        + 'encoding = "utf-8"\n'
        + server.format(id="c")
        + 'encoding = "gbk"\n'
    )
    options = {s.server_id: s.options for s in build_sources(load_config(config))}
    assert (options["a"].detect_encoding, options["a"].fallback_encoding) == (True, None)
    assert (options["b"].detect_encoding, options["b"].fallback_encoding) == (False, None)
    assert (options["c"].detect_encoding, options["c"].fallback_encoding) == (False, "gbk")


def test_live_line_arriving_alone_is_judged_with_the_files_content(tmp_path: Path) -> None:
    """The daemon follows a GBK proxy log from its end: the one new line that arrives is
    decoded with the guess made from the file's earlier content, not from itself alone."""
    log = tmp_path / "proxy.log.0"
    log.write_bytes(
        "".join(f"10:00:{i:02d} [信息] 已启用插件 P{i}\n" for i in range(30)).encode("gbk")
    )
    agent = Agent(log, ReadFrom.END)
    agent.source = dataclasses.replace(
        agent.source, options=dataclasses.replace(agent.source.options, detect_encoding=True)
    )
    agent.start()

    def settle() -> None:
        for _ in range(3):
            while agent.follower is not None and agent.follower.step():
                pass
            agent.now += 1.0

    settle()  # opened at its end
    with log.open("ab") as file:
        # Alone, this line reads as Korean (cp949): no localised level name in it.
        file.write("10:01:00 [INFO] 小明 断开连接\n".encode("gbk"))
    settle()
    (entry,) = agent.sink.entries
    assert (entry.log_level, entry.message) == ("INFO", "小明 断开连接")
