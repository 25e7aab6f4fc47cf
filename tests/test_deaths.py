"""Death messages: every template of every Minecraft version is recognised.

The parametrised rows are built from ../shared/minecraft/death_templates_<version>.json
(skipped when absent); the hand-written rows run everywhere.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from agent.parse.minecraft import classify
from agent.parse.minecraft.deaths import cause_of

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "minecraft"
DATA = ROOT / "agent" / "parse" / "minecraft" / "data" / "death_templates.json"
VICTIM, KILLER, ITEM = "Steve", "Zombie", "Diamond Sword"


def _shared_templates() -> list[tuple[str, str, str]]:
    """(version, key, template) for every death template of every shared version file."""
    rows = []
    for path in sorted(SHARED.glob("death_templates_*.json")):
        version = path.stem.removeprefix("death_templates_")
        if not version[:1].isdigit():
            continue
        for key, template in json.loads(path.read_text(encoding="utf-8"))["death"].items():
            rows.append((version, key, template))
    return rows


SHARED_ROWS = _shared_templates() if SHARED.is_dir() else []


def _expected_cause(template: str) -> str:
    """One wording can carry several keys (mob/player); the first in sorted order wins."""
    data = json.loads(DATA.read_text(encoding="utf-8"))["templates"]
    keys = sorted(k for k, wordings in data.items() if any(w["text"] == template for w in wordings))
    return cause_of(keys[0])


def _fill(template: str) -> str:
    return (
        template.replace("%1$s", VICTIM)
        .replace("%2$s", KILLER)
        .replace("%3$s", f"[{ITEM}]")
        .replace("%s", f"{VICTIM} died")
    )


@pytest.mark.skipif(not SHARED_ROWS, reason="../shared/minecraft not present")
@pytest.mark.parametrize(
    ("version", "key", "template"), SHARED_ROWS, ids=[f"{v}:{k}" for v, k, _ in SHARED_ROWS]
)
def test_every_shared_template(version: str, key: str, template: str) -> None:
    """A line built from the template is a death with the template's cause, killer and item."""
    if "%" not in template:
        pytest.skip(f"{key} is not a death message ({template!r})")
    event = classify(_fill(template), "INFO")
    assert event.tags == ["death"]
    death = event.fields["death"]
    assert death["cause"] == _expected_cause(template)
    assert death.get("killer") == (KILLER if "%2$s" in template else None)
    assert death.get("item") == (ITEM if "%3$s" in template else None)
    assert event.fields.get("username") == (VICTIM if "%1$s" in template else None)


def test_every_version_file_was_read() -> None:
    """The shared files hold the counts the summary promises (103 in the newest)."""
    if not SHARED_ROWS:
        pytest.skip("../shared/minecraft not present")
    per_version: dict[str, int] = {}
    for version, _, _ in SHARED_ROWS:
        per_version[version] = per_version.get(version, 0) + 1
    assert per_version["1.21.11"] >= 103 and per_version["1.7"] >= 40


# Hand-written rows: run without ../shared.
ROWS = [
    ("Steve was slain by Zombie", {"cause": "mob", "killer": "Zombie"}),
    ("Steve was slain by Alex using [Diamond Sword]",
     {"cause": "mob.item", "killer": "Alex", "item": "Diamond Sword"}),
    ("Steve was shot by Skeleton using [Bow]",
     {"cause": "arrow.item", "killer": "Skeleton", "item": "Bow"}),
    ("Steve was killed by magic", {"cause": "magic"}),
    ("Steve was killed by Witch using magic", {"cause": "indirectMagic", "killer": "Witch"}),
    ("Steve was killed by [Thorns Chestplate] trying to hurt Guardian",
     {"cause": "thorns.item", "killer": "Guardian", "item": "Thorns Chestplate"}),
    ("Steve drowned", {"cause": "drown"}),
    ("Steve drowned whilst trying to escape Drowned",
     {"cause": "drown.player", "killer": "Drowned"}),
    ("Steve drowned while trying to escape Drowned",
     {"cause": "drown.player", "killer": "Drowned"}),
    ("Steve fell from a high place", {"cause": "fell.accident.generic"}),
    ("Steve fell from a high place and fell out of the world",
     {"cause": "legacy.fell.outOfWorld"}),
    ("Steve was shot by a skull from Wither", {"cause": "witherSkull", "killer": "Wither"}),
    ("Steve went off with a bang due to a firework fired from [Crossbow] by Pillager",
     {"cause": "fireworks.item", "killer": "Pillager", "item": "Crossbow"}),
    ("Steve was blown up by Creeper", {"cause": "explosion.player", "killer": "Creeper"}),
    ("Steve was slain by Zombie Villager", {"cause": "mob", "killer": "Zombie Villager"}),
    ("Steve died", {"cause": "generic"}),
    ("Steve left the confines of this world", {"cause": "outsideBorder"}),
]  # fmt: skip


@pytest.mark.parametrize(("message", "death"), ROWS, ids=[m for m, _ in ROWS])
def test_hand_written(message: str, death: dict) -> None:
    """Most specific wording wins; whilst/while both match; pre-1.7 wordings are known."""
    event = classify(message)
    assert event.tags == ["death"]
    assert event.fields == {"username": "Steve", "death": death}


@pytest.mark.parametrize(
    "message", ["Steve was", "Steve was slain", "Steve died of boredom", "Steve fell"]
)
def test_near_misses_are_not_deaths(message: str) -> None:
    """Partial wordings are not deaths."""
    assert classify(message).tags == ["unknown"]


def test_committed_data_matches_generator() -> None:
    """agent/parse/minecraft/data/death_templates.json is exactly what the generator writes."""
    if not SHARED.is_dir():
        pytest.skip("../shared/minecraft not present")
    script = ROOT / "scripts" / "gen_death_templates.py"
    spec = importlib.util.spec_from_file_location("gen_death_templates", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert DATA.read_text(encoding="utf-8") == module.render(SHARED)
