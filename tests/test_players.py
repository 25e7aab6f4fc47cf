"""Roster: who is online, bounded, and its snapshot/restore round trip (JSON-able)."""

from __future__ import annotations

import json

from agent.parse.minecraft.players import Roster
from agent.parse.reader import ServerContext


def test_login_logout_gives_the_session_length() -> None:
    roster = Roster()
    roster.login("Steve", 1000.0)
    assert "Steve" in roster
    assert roster.logout("Steve", 1090.4) == 90
    assert "Steve" not in roster


def test_unknown_login_time_or_clock_going_back_gives_no_length() -> None:
    roster = Roster()
    roster.login("Steve", None)
    assert roster.logout("Steve", 1000.0) is None
    roster.login("Alex", 2000.0)
    assert roster.logout("Alex", 1000.0) is None
    assert roster.logout("Nobody", 1000.0) is None


def test_roster_is_bounded_oldest_login_forgotten_first() -> None:
    roster = Roster(max_online=3)
    for number in range(5):
        roster.login(f"p{number}", float(number))
    assert roster.online == ["p2", "p3", "p4"]


def test_snapshot_is_json_and_restores_the_same_roster() -> None:
    context = ServerContext()
    context.roster.login("Steve", 1000.5)
    context.roster.login("Alex", None)
    context.roster.seen("Herobrine")
    data = json.loads(json.dumps(context.snapshot()))
    assert data["roster"] == {
        "version": 1,
        "online": {"Steve": 1000.5, "Alex": None},
        "present": ["Herobrine"],
    }
    other = ServerContext()
    assert other.restore(data) == 0
    assert other.roster.online == ["Steve", "Alex", "Herobrine"]
    assert other.roster.logout("Steve", 1010.5) == 10


def test_restore_skips_bad_entries_and_counts_them() -> None:
    roster = Roster()
    roster.login("Stale", 1.0)
    skipped = roster.restore(
        {"version": 1, "online": {"Steve": 5.0, "": 1.0, "Bad": "noon", "Inf": float("inf")}}
    )
    assert skipped == 3
    assert roster.online == ["Steve"]


def test_restore_of_an_unknown_version_or_shape_restores_nobody() -> None:
    roster = Roster()
    assert roster.restore({"version": 99, "online": {"Steve": 1.0}}) == 1
    assert roster.restore({"online": []}) == 1
    assert roster.restore("junk") == 1  # type: ignore[arg-type]
    assert len(roster) == 0


def test_clear_forgets_everybody() -> None:
    roster = Roster()
    roster.login("Steve", 1.0)
    roster.handshake({"ip": "203.0.113.5", "port": 1})
    roster.clear()
    assert len(roster) == 0
    assert roster.take_address("Steve") == {}


def test_seen_players_are_online_but_left_the_game_needs_a_login() -> None:
    roster = Roster()
    roster.seen("Steve")
    assert "Steve" in roster
    assert not roster.left("Steve")  # no login line seen: not a session end
    roster.login("Steve", 5.0)
    assert roster.online == ["Steve"]
    assert roster.left("Steve")
