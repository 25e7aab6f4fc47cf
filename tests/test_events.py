"""classify: one row per real message shape and lookalike of shared/PARSING.md."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.model import Tag
from agent.parse.minecraft import classify

LOGIN = ["connection", "login"]
LOGOUT = ["connection", "logout"]
CONN = ["connection"]
CHAT = ["chat"]
DEATH = ["death"]
LAG = ["performance", "overloaded", "server"]
START = ["server", "starting"]
STOP = ["server", "stopping"]
UNKNOWN = ["unknown"]

LOC = {"x": 221.41534292614716, "y": 68.0, "z": 239.43154415221068}

# (message, tags, fields)
ROWS = [
    # --- logins (once per session) ---
    ("gumptionthomas[/192.168.11.198:59659] logged in with entity id 14698 at "
     "(221.41534292614716, 68.0, 239.43154415221068)", LOGIN,
     {"username": "gumptionthomas", "ip": "192.168.11.198", "port": 59659, "location": LOC}),
    ("Steve [/10.0.0.2:51234] logged in with entity id 7 at (1.5, 64.0, -2.5)", LOGIN,  # Beta
     {"username": "Steve", "ip": "10.0.0.2", "port": 51234,
      "location": {"x": 1.5, "y": 64.0, "z": -2.5}}),
    ("Fallen_Breath[/127.0.0.1:11115] logged in with entity id 665 at "
     "([world]124.5, 279.25, 141.75)", LOGIN,  # Bukkit world
     {"username": "Fallen_Breath", "ip": "127.0.0.1", "port": 11115,
      "location": {"x": 124.5, "y": 279.25, "z": 141.75, "world": "world"}}),
    ("Player369[local:E:f75f8122] logged in with entity id 238 at (-94.5, 68.0, -3.5)", LOGIN,
     {"username": "Player369", "location": {"x": -94.5, "y": 68.0, "z": -3.5}}),
    ("Sirherobrine23[/[0:0:0:0:0:0:0:1]:54662] logged in with entity id 41 at (37.5, 76.0, -57.5)",
     LOGIN, {"username": "Sirherobrine23", "ip": "0:0:0:0:0:0:0:1", "port": 54662,
             "location": {"x": 37.5, "y": 76.0, "z": -57.5}}),
    ("Player[/**.**.**.**:12345] logged in with entity id 23423 at ([world]-3434.5, 34.0, 7.25)",
     LOGIN, {"username": "Player", "port": 12345,
             "location": {"x": -3434.5, "y": 34.0, "z": 7.25, "world": "world"}}),
    (".BedrockName[/1.2.3.4:0] logged in with entity id 9 at (0.0, 70.0, 0.0)", LOGIN,
     {"username": ".BedrockName", "ip": "1.2.3.4", "port": 0,
      "location": {"x": 0.0, "y": 70.0, "z": 0.0}}),
    ("_awa_[/127.0.0.1:2115] logged in with entity id 314 at (1.0, 2.0, 3.0)", LOGIN,
     {"username": "_awa_", "ip": "127.0.0.1", "port": 2115,
      "location": {"x": 1.0, "y": 2.0, "z": 3.0}}),
    # --- logouts ---
    ("gumptionthomas lost connection: blah", LOGOUT,
     {"username": "gumptionthomas", "reason": "blah"}),
    ("1635321 lost connection: Disconnected", LOGOUT,
     {"username": "1635321", "reason": "Disconnected"}),
    ("Steve lost connection: §cYou are banned", LOGOUT,
     {"username": "Steve", "reason": "You are banned"}),
    # a server-list ping, not a logout
    ("/1.2.3.4:5555 lost connection: Internal Exception: java.io.IOException", CONN,  # a ping
     {"ip": "1.2.3.4", "port": 5555, "reason": "Internal Exception: java.io.IOException"}),
    # lost before login (offline GameProfile, 1.20 name+address): no session ended
    ("com.mojang.authlib.GameProfile@6a4e2b[id=<null>,name=Steve,properties={},legacy=false] "
     "(/127.0.0.1:51352) lost connection: Failed to verify username!", CONN,
     {"username": "Steve", "ip": "127.0.0.1", "port": 51352,
      "reason": "Failed to verify username!"}),
    ("Steve (/127.0.0.1:51352) lost connection: You are not white-listed on this server!", CONN,
     {"username": "Steve", "ip": "127.0.0.1", "port": 51352,
      "reason": "You are not white-listed on this server!"}),
    # --- joined / left: connection only (every Java format also logs in / loses connection)
    ("Steve joined the game", CONN, {"username": "Steve"}),
    ("Steve left the game", CONN, {"username": "Steve"}),
    ("Steve (formerly known as Bob) joined the game", CONN, {"username": "Steve"}),
    ("UUID of player JannicMitC is 54f7f249-e0e3-4dd7-b81a-230e4a872c8d", CONN,
     {"username": "JannicMitC", "uuid": "54f7f249-e0e3-4dd7-b81a-230e4a872c8d"}),
    # --- Bedrock (gamertags contain spaces) ---
    ("Player connected: Sirherobrine, xuid: 2535413418839840", LOGIN,
     {"username": "Sirherobrine", "xuid": "2535413418839840"}),
    ("Player disconnected: Some Gamer Tag, xuid: 2535413418839841, pfid: 1a2b", LOGOUT,
     {"username": "Some Gamer Tag", "xuid": "2535413418839841"}),
    ("Player connected: 2535413418839840", LOGIN, {"xuid": "2535413418839840"}),
    ("Player disconnected:", LOGOUT, {}),
    ("Player Spawned: Sirherobrine xuid: 2535413418839840", CONN,
     {"username": "Sirherobrine", "xuid": "2535413418839840"}),
    # --- proxies ---
    ("[connected player] Fallen_Breath (/127.0.0.1:13394) has connected", LOGIN,
     {"username": "Fallen_Breath", "ip": "127.0.0.1", "port": 13394}),
    ("[connected player] Fallen_Breath (/127.0.0.1:13580) has disconnected: 断开连接", LOGOUT,
     {"username": "Fallen_Breath", "ip": "127.0.0.1", "port": 13580, "reason": "断开连接"}),
    ("[connected player] TestName (/127.0.0.1:13456) has disconnected", LOGOUT,
     {"username": "TestName", "ip": "127.0.0.1", "port": 13456}),
    ("[server connection] Fallen_Breath -> lobby has connected", UNKNOWN, {}),
    ("[Steve,/1.2.3.4:5555] <-> InitialHandler has connected", LOGIN,
     {"username": "Steve", "ip": "1.2.3.4", "port": 5555}),
    ("[/1.2.3.4:5555] <-> InitialHandler has connected", CONN,  # a handshake: no name yet
     {"ip": "1.2.3.4", "port": 5555}),  # ping / handshake
    ("[/1.2.3.4:5555] <-> InitialHandler has pinged", UNKNOWN, {}),
    # BungeeCord: the kick reason comes first, UpstreamBridge ends every session.
    ("[Steve] disconnected with: Kicked whilst connecting to lobby", CONN,
     {"username": "Steve", "reason": "Kicked whilst connecting to lobby"}),
    ("[Steve] -> UpstreamBridge has disconnected", LOGOUT, {"username": "Steve"}),
    ("[/127.0.0.1:14426|Fallen_Breath] -> UpstreamBridge has disconnected", LOGOUT,
     {"username": "Fallen_Breath", "ip": "127.0.0.1", "port": 14426}),
    ("[/127.0.0.1:14426|Fallen_Breath] <-> InitialHandler has connected", LOGIN,
     {"username": "Fallen_Breath", "ip": "127.0.0.1", "port": 14426}),
    ("[/127.0.0.1:1|Bob] <-> DownstreamBridge <-> [lobby] has disconnected", UNKNOWN, {}),
    # --- chat (wins over every other tag) ---
    ("<vesicular> yo yo", CHAT, {"username": "vesicular", "chat": "yo yo"}),
    ("<Alice> Bob joined the game", CHAT, {"username": "Alice", "chat": "Bob joined the game"}),
    ("<Steve> Steve left the game", CHAT, {"username": "Steve", "chat": "Steve left the game"}),
    ("<Steve> Alex was slain by Zombie", CHAT,
     {"username": "Steve", "chat": "Alex was slain by Zombie"}),
    ("<Steve> <Alex> !!ping", CHAT, {"username": "Steve", "chat": "<Alex> !!ping"}),
    ("<§eAlex§r> color", CHAT, {"username": "Alex", "chat": "color"}),
    ("<\x1b[33mSteve\x1b[m> hi\x1b[m", CHAT, {"username": "Steve", "chat": "hi"}),
    ("<Prefix Steve> Hello", CHAT, {"username": "Steve", "chat": "Hello"}),
    ("<[Prefix]Steve> Hello", CHAT, {"username": "Steve", "chat": "Hello"}),
    ("<~Alan> hi all", CHAT, {"nickname": "Alan", "chat": "hi all"}),
    ("[Server] hello", CHAT, {"chat": "hello"}),
    ("[Server] <vesicular> yo yo", CHAT, {"username": "vesicular", "chat": "yo yo"}),
    ("* Steve waves", CHAT, {"username": "Steve", "chat": "waves"}),
    ("[Not Secure] <OwO> !!MCDR", CHAT, {"username": "OwO", "chat": "!!MCDR"}),
    ("[world_nether]<Alex> hello", CHAT, {"username": "Alex", "chat": "hello"}),
    ("**** SERVER IS RUNNING IN OFFLINE/INSECURE MODE!", UNKNOWN, {}),
    # --- deaths ---
    ("Steve was slain by Zombie", DEATH,
     {"username": "Steve", "death": {"cause": "mob", "killer": "Zombie"}}),
    ("Steve was slain by Alex using [Diamond Sword]", DEATH,
     {"username": "Steve",
      "death": {"cause": "mob.item", "killer": "Alex", "item": "Diamond Sword"}}),
    ("Steve hit the ground too hard", DEATH, {"username": "Steve", "death": {"cause": "fall"}}),
    ("Steve fell off a ladder", DEATH,
     {"username": "Steve", "death": {"cause": "fell.accident.ladder"}}),
    ("gumptionthomas was shot by arrow", DEATH,  # pre-1.7: a projectile is not a killer
     {"username": "gumptionthomas", "death": {"cause": "arrow"}}),
    ("§agumptionthomas§r got finished off by §bvesicular§r using Bow", DEATH,
     {"username": "gumptionthomas",
      "death": {"cause": "legacy.fell.finish.item", "killer": "vesicular", "item": "Bow"}}),
    ("Villager EntityVillager['Villager'/85, l='world', x=1.50, y=64.00, z=2.50] died, "
     "message: 'Villager was slain by Zombie'", DEATH,
     {"entity": "Villager", "location": {"x": 1.5, "y": 64.0, "z": 2.5, "world": "world"},
      "death": {"cause": "mob", "killer": "Zombie"}}),
    ("Villager axw['Librarian'/85, uuid='0b2e', l='ServerLevel[world]', x=-1.50, y=64.00, "
     "z=2.50, cpos=[0, 0], tl=100, v=true] died, message: 'Librarian was squashed by a falling "
     "anvil'", DEATH,
     {"entity": "Librarian", "location": {"x": -1.5, "y": 64.0, "z": 2.5, "world": "world"},
      "death": {"cause": "anvil"}}),
    ("Thread RCON Client started", UNKNOWN, {}),
    ("Server thread/ died", UNKNOWN, {}),  # not a player name
    # --- advancements ---
    ("Steve has made the advancement [Stone Age]", ["advancement"],
     {"username": "Steve", "advancement": "Stone Age"}),
    ("Steve has reached the goal [Sky's the Limit]", ["advancement"],
     {"username": "Steve", "advancement": "Sky's the Limit"}),
    ("Steve has completed the challenge [Monsters Hunted]", ["advancement"],
     {"username": "Steve", "advancement": "Monsters Hunted"}),
    ("gumptionthomas has just earned the achievement [Getting an Upgrade]", ["advancement"],
     {"username": "gumptionthomas", "advancement": "Getting an Upgrade"}),
    # --- performance ---
    ("Can't keep up! Is the server overloaded? Running 2345ms or 46 ticks behind", LAG,
     {"lag_ms": 2345, "lag_ticks": 46}),
    ("Can't keep up! Did the system time change, or is the server overloaded? Running 2850ms "
     "behind, skipping 57 tick(s)", LAG, {"lag_ms": 2850, "lag_ticks": 57}),
    ("Can't keep up! Did the system time change, or is the server overloaded?", LAG, {}),
    ("Can't keep up!", LAG, {}),
    # --- server life-cycle ---
    ('Done (3.2s)! For help, type "help" or "?"', ["server"], {}),
    ("Done (3.11s)!", ["server"], {}),
    ("Done (1.5s)! Run /geyser help for help!", UNKNOWN, {}),  # Geyser
    ("Starting minecraft server version 1.21.4", START, {"version": "1.21.4"}),
    ("Starting integrated minecraft server version 1.16.5", START, {"version": "1.16.5"}),
    ("Starting Minecraft server on *:25565", UNKNOWN, {}),
    ("Starting Server", START, {}),
    ("Version 1.19.41.01", ["server"], {"version": "1.19.41.01"}),
    ("Version: 1.21.70-beta25", ["server"], {"version": "1.21.70-beta25"}),
    ("Version **.**.**.**", ["server"], {}),  # masked in the shared logs
    ("Server started.", ["server"], {}),
    ("Stopping server", STOP, {}),
    ("Stopping the server", STOP, {}),
    ("Stopping server...", STOP, {}),
    ("[Fallen_Breath: Stopping the server]", UNKNOWN, {}),  # command feedback
    ("Stopping singleplayer server as player logged out", UNKNOWN, {}),
    # --- issue 11: Alpha/Beta, /say since 1.19, mc-coal's relayed chat ---
    ("Steve [/203.0.113.5:51234] logged in with entity id 7", LOGIN,
     {"username": "Steve", "ip": "203.0.113.5", "port": 51234}),
    ("Steve [/203.0.113.5:51234] logged in with entity id 7 at (12.5, 64.0, -3.2)", LOGIN,
     {"username": "Steve", "ip": "203.0.113.5", "port": 51234,
      "location": {"x": 12.5, "y": 64.0, "z": -3.2}}),
    ("Starting minecraft server version Beta 1.7.3", START, {"version": "Beta 1.7.3"}),
    ("Starting minecraft server version Alpha 1.2.6", START, {"version": "Alpha 1.2.6"}),
    ("[CONSOLE] restarting in 5", CHAT, {"chat": "restarting in 5"}),
    ("[Rcon] restarting in 5", CHAT, {"chat": "restarting in 5"}),
    ("[Rcon: Stopping the server]", UNKNOWN, {}),
    ("CONSOLE: Stopping the server..", UNKNOWN, {}),  # Beta's /stop feedback
    ("Steve [/203.0.113.5:51234] lost connection", CONN,  # a pre-1.7 handshake drop
     {"username": "Steve", "ip": "203.0.113.5", "port": 51234}),
    ("/203.0.113.5:52344 lost connection: Disconnected", CONN,
     {"ip": "203.0.113.5", "port": 52344, "reason": "Disconnected"}),
    ("[Not Secure] [Steve] hello there", CHAT, {"username": "Steve", "chat": "hello there"}),
    ("[Not Secure] [Member] Steve >> halo", CHAT, {"username": "Steve", "chat": "halo"}),
    ("[Server] <coal@example.com> hi", CHAT, {"chat": "<coal@example.com> hi"}),
    ("[Essentials] Steve: reloaded", UNKNOWN, {}),
    ("[Steve: Stopping the server]", UNKNOWN, {}),
    ("Steve left the game.", CONN, {"username": "Steve"}),
    ("Enabled BungeeCord version git:BungeeCord-Bootstrap:1.20", START,
     {"version": "git:BungeeCord-Bootstrap:1.20"}),
    ("Closing listener [id: 0x3063cdc8, L:/127.0.0.1:25577]", STOP, {}),
    ("Shutting down the proxy...", STOP, {}),
    ("[Steve] <-> ServerConnector [lobby] has connected", CONN, {"username": "Steve"}),
    ("Steve was shot by Arrow", DEATH, {"username": "Steve", "death": {"cause": "arrow"}}),
    # --- chatter ---
    ("Loading properties", UNKNOWN, {}),
    ("[ViaVersion] Loading 1.12.2 -> 1.13 mappings...", UNKNOWN, {}),
    ("Preparing spawn area: 35%", UNKNOWN, {}),
    ("", UNKNOWN, {}),
]  # fmt: skip


@pytest.mark.parametrize("row", ROWS, ids=[row[0][:50] or "empty" for row in ROWS])
def test_message_shapes(row: tuple) -> None:
    """Each message shape gets exactly its tags and fields."""
    message, tags, fields = row
    event = classify(message, "INFO")
    assert (event.tags, event.fields) == (tags, fields)


def test_tags_are_model_tags_without_timestamp() -> None:
    """Every tag used is an agent.model.Tag value, and classify never adds 'timestamp'."""
    values = {tag.value for tag in Tag} - {Tag.TIMESTAMP.value}
    for message, _, _ in ROWS:
        assert set(classify(message).tags) <= values


def test_no_none_values_and_no_colour_in_fields() -> None:
    """Absent fields are absent keys; no field carries § codes or ANSI escapes."""

    def walk(value: object) -> None:
        assert value is not None
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, str):
            assert "§" not in value and "\x1b" not in value

    for message, _, _ in ROWS:
        walk(classify(message).fields)


def test_events_are_independent() -> None:
    """Each call returns fresh lists and dicts: a caller may add tags without side effects."""
    first = classify("Loading properties")
    first.tags.append("timestamp")
    assert classify("Loading properties").tags == ["unknown"]


@pytest.mark.parametrize(
    "message",
    [
        "\x00\x00",
        "<",
        "<>",
        "< >",
        "* ",
        "[",
        "[]<",
        "x" * 1_000_000,
        "Villager [",
        # long lines shaped to make a backtracking pattern quadratic
        "Steve was killed by " + " trying to hurt " * 4000,
        "Villager x['a'/1, " + "x=1, y=2, z=" * 5000 + "] died, message: 'a'",
        "GameProfile@" + " (/1.2.3.4:5)" * 5000 + " lost connection: x",
        "Steve[" + "[/" * 30000 + " logged in with entity id 1 at (",
    ],
)
def test_garbage_never_raises(message: str) -> None:
    """Junk and pathological messages give an Event promptly, never an exception."""
    assert classify(message).tags


PIECES = [*"<>[]()*/:,. §\x1b~_'=", "Steve", "Villager", "was ", "slain by ", "lost ",
          "connection", "logged in", "joined", "has ", "[/1.2.3.4:5]", "x=1.0", "died"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=20).map("".join))
def test_message_like_text_never_raises(message: str) -> None:
    """Any text built from message pieces gives tags, never an exception."""
    assert classify(message).tags


@pytest.mark.parametrize(
    ("message", "fields"),
    [
        (
            "Villager EntityVillager['Bob'/12, l='world', x=1.2.3, y=64.00, z=-5.5] died, "
            "message: 'Bob was slain by Zombie'",
            {"entity": "Bob", "death": {"cause": "mob", "killer": "Zombie"}},
        ),
        (
            "Can't keep up! Is the server overloaded? Running 99999999999999999999999ms or 46 "
            "ticks behind",
            {"lag_ticks": 46},
        ),
        (
            "Steve[/192.0.2.1:99999] logged in with entity id 1 at (1e999, 64.0, 2.0)",
            {"username": "Steve", "ip": "192.0.2.1"},
        ),
    ],
)
def test_out_of_range_numbers_are_left_out(message: str, fields: dict) -> None:
    """Ports above 65535, counts beyond 64 bits and non-finite coordinates are omitted,
    never a crash nor a value JSON cannot carry."""
    assert classify(message).fields == fields
