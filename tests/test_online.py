"""Lines whose meaning depends on who is online: read through the real EntryReader.

Every line here is made up. Each test feeds a short server session to one reader (one
ServerContext) and checks the tags and fields of the lines that matter.
"""

from __future__ import annotations

from datetime import UTC, date

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.encode.body import to_body
from agent.model import Entry
from agent.parse.reader import EntryReader, ReaderOptions, ServerContext

DAY = date(2026, 11, 21)
OPTIONS = ReaderOptions(timezone=UTC)


def read(lines: list[str], context: ServerContext | None = None) -> list[Entry]:
    """Entries of ``lines`` read as one file (one reader, one server context)."""
    reader = EntryReader(
        server_id="s", fingerprint="f", options=OPTIONS, date_hint=DAY, context=context
    )
    data = "".join(line + "\n" for line in lines).encode()
    return reader.feed(data) + reader.finish()


def tagged(entries: list[Entry]) -> list[tuple[list[str], dict]]:
    """(tags without 'timestamp', fields) per entry."""
    return [([t for t in e.tags if t != "timestamp"], e.fields) for e in entries]


LOGIN = "[10:00:00] [Server thread/INFO]: Steve[/203.0.113.5:51234] logged in with entity id 7 at (1.5, 64.0, -2.5)"  # noqa: E501
PAPER_LOGIN = (
    "[10:00:00 INFO]: Steve[/203.0.113.5:51234] logged in with entity id 7 at (1.5, 64.0, -2.5)"
)


class TestSessions:
    def test_logout_carries_session_seconds_when_its_login_was_seen(self) -> None:
        entries = read(
            [LOGIN, "[10:30:05] [Server thread/INFO]: Steve lost connection: Disconnected"]
        )
        tags, fields = tagged(entries)[1]
        assert tags == ["connection", "logout"]
        assert fields["session_seconds"] == 30 * 60 + 5

    def test_session_seconds_reaches_the_api_body(self) -> None:
        entries = read([LOGIN, "[10:00:42] [Server thread/INFO]: Steve lost connection: Bye"])
        assert to_body(entries[1])["meta"]["session_seconds"] == 42

    def test_logout_without_its_login_has_no_session_seconds(self) -> None:
        entries = read(["[10:30:05] [Server thread/INFO]: Steve lost connection: Disconnected"])
        assert tagged(entries) == [
            (["connection", "logout"], {"username": "Steve", "reason": "Disconnected"})
        ]

    def test_a_server_start_clears_the_roster(self) -> None:
        entries = read(
            [
                LOGIN,
                "[11:00:00] [Server thread/INFO]: Starting minecraft server version 1.21.4",
                "[11:30:00] [Server thread/INFO]: Steve lost connection: Disconnected",
            ]
        )
        assert "session_seconds" not in entries[2].fields

    def test_roster_spans_files_of_one_server(self) -> None:
        context = ServerContext()
        read([LOGIN], context)
        later = read(["[10:00:09] [Server thread/INFO]: Steve lost connection: Timed out"], context)
        assert later[0].fields["session_seconds"] == 9


class TestPre17SessionEnds:
    def test_left_the_game_without_lost_connection_is_the_logout(self) -> None:
        entries = read(
            [
                "2011-04-01 10:00:00 [INFO] Steve [/203.0.113.5:51234] logged in with entity id 7",
                "2011-04-01 10:05:00 [INFO] Steve left the game.",
            ]
        )
        assert [tags for tags, _ in tagged(entries)] == [
            ["connection", "login"],
            ["connection", "logout"],
        ]
        assert entries[1].fields == {"username": "Steve", "session_seconds": 300}

    def test_lost_connection_then_left_gives_one_logout(self) -> None:
        entries = read(
            [
                LOGIN,
                "[10:01:00] [Server thread/INFO]: Steve lost connection: Disconnected",
                "[10:01:00] [Server thread/INFO]: Steve left the game",
            ]
        )
        assert sum("logout" in e.tags for e in entries) == 1
        assert tagged(entries)[2] == (["connection"], {"username": "Steve"})

    def test_left_then_lost_connection_gives_one_logout(self) -> None:
        entries = read(
            [
                LOGIN,
                "[10:01:00] [Server thread/INFO]: Steve left the game",
                "[10:01:00] [Server thread/INFO]: Steve lost connection: disconnect.quitting",
            ]
        )
        assert [("logout" in e.tags) for e in entries] == [False, True, False]

    def test_handshake_drop_is_a_connection_not_a_logout(self) -> None:
        entries = read(["2011-04-01 10:00:00 [INFO] Steve [/203.0.113.5:51234] lost connection"])
        assert tagged(entries) == [
            (["connection"], {"username": "Steve", "ip": "203.0.113.5", "port": 51234})
        ]

    def test_left_the_game_of_a_player_not_online_stays_a_connection(self) -> None:
        entries = read(["[10:01:00] [Server thread/INFO]: Steve left the game"])
        assert tagged(entries) == [(["connection"], {"username": "Steve"})]


class TestSayAndPluginChat:
    def test_say_without_marker_only_when_the_player_is_online(self) -> None:
        offline = read(["[10:00:05 INFO]: [Steve] hello"])
        online = read([PAPER_LOGIN, "[10:00:05 INFO]: [Steve] hello"])
        assert tagged(offline)[0][0] == ["unknown"]
        assert tagged(online)[1] == (["chat"], {"username": "Steve", "chat": "hello"})

    def test_plugin_tags_are_not_say(self) -> None:
        entries = read(
            [
                PAPER_LOGIN,
                "[10:00:05 INFO]: [Essentials] Steve: reloaded",
                "[10:00:06 INFO]: [Server] thing",
            ]
        )
        assert tagged(entries)[1][0] == ["unknown"]  # Essentials is not a player
        assert tagged(entries)[2] == (["chat"], {"chat": "thing"})

    def test_plugin_formats_of_an_online_player_are_chat(self) -> None:
        said = [
            "[Member] Steve: hello",
            "Owner | Steve: hi",
            "Steve » hi",
            "[G] [Admin] Steve >> hi",
            "Owner Steve > hi",
            "§7[§cAdmin§7] §fSteve§7: §fhi",
            "\x1b[0;37m[Member] Steve\x1b[m: hi",
        ]
        entries = read([PAPER_LOGIN] + [f"[10:00:05 INFO]: {text}" for text in said])
        for tags, fields in tagged(entries)[1:]:
            assert tags == ["chat"]
            assert fields["username"] == "Steve"

    def test_plugin_format_of_a_player_not_online_is_not_chat(self) -> None:
        entries = read(["[10:00:05 INFO]: [Member] Steve: hello"])
        assert tagged(entries)[0][0] == ["unknown"]

    def test_lines_that_mention_an_online_player_are_not_chat(self) -> None:
        lookalikes = [
            "Steve issued server command: /msg Alex hi",
            "Steve issued server command: /tell Alex secret",
            "[Steve: Stopping the server]",
            "[Steve: Set the time to 1000]",
            "Teleporting Steve to spawn",
            "Steve has 3 homes",
            "[LuckPerms] Steve: permission set",
            "default: Steve, Alex",
        ]
        entries = read([PAPER_LOGIN] + [f"[10:00:05 INFO]: {text}" for text in lookalikes])
        for (tags, _), text in zip(tagged(entries)[1:], lookalikes, strict=True):
            assert "chat" not in tags, text
            assert "stopping" not in tags, text

    def test_a_command_or_list_shows_who_is_online_without_a_login(self) -> None:
        entries = read(
            [
                "[00:00:05 INFO]: Steve issued server command: /home",
                "[00:00:06 INFO]: There are 2 of a max of 20 players online: Alex, Herobrine",
                "[00:00:07 INFO]: [Member] Steve: morning",
                "[00:00:08 INFO]: Owner | Alex: hi",
                "[00:00:09 INFO]: Herobrine » hey",
                "[00:00:10 INFO]: Notch » hey",
                "[00:01:00 INFO]: Steve left the game",  # login unseen: not a session end
            ]
        )
        assert [tags for tags, _ in tagged(entries)] == [
            ["unknown"], ["unknown"], ["chat"], ["chat"], ["chat"], ["unknown"], ["connection"],
        ]  # fmt: skip

    def test_chat_thread_lines_are_chat_without_a_roster(self) -> None:
        entries = read(
            [
                "[10:00:05] [Async Chat Thread - #3/INFO]: Steve: hello",
                "[10:00:06] [Async Chat Thread - #3/INFO]: [Owner] §xverzion: yes ofc",
                "[10:00:07] [Async Chat Thread - #3/INFO]: [GriefPrevention] Muted repeat message.",
                "[10:00:08] [Async Chat Thread - #3/INFO]: Chat cooldown: wait 3s",
            ]
        )
        assert tagged(entries)[:2] == [
            (["chat"], {"username": "Steve", "chat": "hello"}),
            (["chat"], {"username": "verzion", "chat": "yes ofc"}),
        ]
        assert [tags for tags, _ in tagged(entries)[2:]] == [["unknown"], ["unknown"]]

    def test_other_threads_need_more_than_a_name(self) -> None:
        entries = read([LOGIN, "[10:00:05] [Server thread/INFO]: Steve: hello"])
        assert tagged(entries)[1][0] == ["unknown"]


class TestProxies:
    def test_bungee_login_is_the_line_that_names_the_player(self) -> None:
        entries = read(
            [
                "10:00:00 [INFO] [/203.0.113.9:40000] <-> InitialHandler has connected",
                "10:00:01 [INFO] [/203.0.113.5:51234] <-> InitialHandler has connected",
                "10:00:02 [INFO] [Steve] <-> ServerConnector [lobby] has connected",
                "10:05:00 [INFO] [Steve] <-> ServerConnector [survival] has connected",
                "10:10:00 [INFO] [Steve] -> UpstreamBridge has disconnected",
            ]
        )
        rows = tagged(entries)
        assert rows[0] == (["connection"], {"ip": "203.0.113.9", "port": 40000})
        assert rows[2] == (
            ["connection", "login"],
            {"username": "Steve", "ip": "203.0.113.5", "port": 51234},
        )
        assert rows[3] == (["connection"], {"username": "Steve"})  # a server switch
        assert rows[4][0] == ["connection", "logout"]
        assert rows[4][1]["session_seconds"] == 598

    def test_eaglercraft_login_takes_its_own_address(self) -> None:
        entries = read(
            [
                "10:00:00 [INFO] [EaglercraftXBungee] [/[0:0:0:0:0:0:0:1%0]:39160]: Logged in as 'Steve'",  # noqa: E501
                "10:00:00 [INFO] [Steve] -> UpstreamBridge has connected",
                "10:00:00 [INFO] [Steve] <-> ServerConnector [lobby] has connected",
            ]
        )
        assert [tags for tags, _ in tagged(entries)] == [
            ["connection"],
            ["connection", "login"],
            ["connection"],
        ]
        assert entries[1].fields["port"] == 39160

    def test_proxy_arrows_are_not_say(self) -> None:
        entries = read(
            [
                "10:00:00 [INFO] [Steve] -> UpstreamBridge has connected",
                "10:00:09 [INFO] [Steve] <-> DownstreamBridge <-> [lobby] has disconnected",
            ]
        )
        assert "chat" not in entries[1].tags

    def test_proxy_start_and_stop(self) -> None:
        entries = read(
            [
                "10:00:00 [INFO] Enabled BungeeCord version git:BungeeCord-Bootstrap:1.20-R0.3",
                "10:00:09 [INFO] Closing listener [id: 0x3063cdc8, L:/127.0.0.1:25577]",
                "10:00:10 [INFO] Closing pending connections",
                "[10:01:00 INFO]: Booting up Velocity 3.3.0-SNAPSHOT (git-abc)...",
                "[10:02:00] [Thread-4/INFO] [com.velocitypowered.proxy.VelocityServer]: Shutting down the proxy...",  # noqa: E501
            ]
        )
        assert [tags for tags, _ in tagged(entries)] == [
            ["server", "starting"],
            ["server", "stopping"],
            ["unknown"],
            ["server", "starting"],
            ["server", "stopping"],
        ]
        assert entries[0].fields == {"version": "git:BungeeCord-Bootstrap:1.20-R0.3"}
        assert entries[3].fields == {"version": "3.3.0-SNAPSHOT"}

    def test_localised_levels(self) -> None:
        entries = read(
            [
                "10:00:00 [信息] Listening on /0.0.0.0:25577",
                "10:00:00 [警告] x",
                "10:00:00 [严重] x",
                "10:00:00 [WARNUNG] x",
                "10:00:00 [SCHWERWIEGEND] x",
                "10:00:00 [AVERTISSEMENT] x",
                "10:00:00 [INFOS] x",
                "10:00:00 [ПРЕДУПРЕЖДЕНИЕ] x",
            ]
        )
        from agent.parse.levels import to_api_level

        assert [to_api_level(e.log_level) for e in entries] == [
            "info", "warn", "error", "warn", "error", "warn", "info", "warn",
        ]  # fmt: skip


SESSION_LINES = [
    LOGIN,
    PAPER_LOGIN,
    "[10:00:05 INFO]: [Steve] hello",
    "[10:00:05 INFO]: [Member] Steve: hello",
    "[10:00:06] [Async Chat Thread - #1/INFO]: [A] [B] [C] [D] [E] x: y",
    "[10:00:07] [Server thread/INFO]: Steve left the game",
    "[10:00:07] [Server thread/INFO]: Steve lost connection: Disconnected",
    "10:00:00 [INFO] [/203.0.113.9:40000] <-> InitialHandler has connected",
    "10:00:02 [INFO] [Steve] <-> ServerConnector [lobby] has connected",
    "10:10:00 [INFO] [Steve] -> UpstreamBridge has disconnected",
    "[10:00:00] [Server thread/INFO]: Starting minecraft server version 1.21.4",
    "[10:00:00 INFO]: [Essentials] Enabling Essentials v2.19.0",
    "[10:00:00 INFO]: \x1b[0;31m§c[",
    "[10:00:00 INFO]: " + "[" * 300 + "Steve: " + "]" * 300,
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(SESSION_LINES), max_size=30))
def test_any_sequence_reads_and_sessions_never_go_negative(lines: list[str]) -> None:
    """Any order of session lines reads without error, one entry per line; session
    lengths are never negative; only Steve can be online."""
    context = ServerContext()
    entries = read(lines, context)
    assert len(entries) == len(lines)
    for entry in entries:
        seconds = entry.fields.get("session_seconds")
        assert seconds is None or seconds >= 0
    assert len(context.roster) <= 1
