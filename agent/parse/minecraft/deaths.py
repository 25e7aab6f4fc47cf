"""Death messages: matchers compiled at import from the generated template file.

``data/death_templates.json`` is written by ``scripts/gen_death_templates.py`` from the
language files of every Minecraft version (no death regex is written by hand). A death
message is ``<victim> <template tail>``; the victim is the first token, and the tails are
indexed by their first two literal words ("was slain", "fell off", "drowned"), so a
line is tried against a handful of regexes, most specific (longest literal text) first:
"was slain by X using [Y]" is tried before "was slain by X".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from agent.parse.minecraft.connections import location

# Death messages are short (names <= 16 characters, custom names and items <= ~50); a
# longer tail is not tried, which also bounds the lazy groups' backtracking.
MAX_TAIL = 512
_PLACEHOLDER = re.compile(r"%(\d)\$s|%s")
# The item is printed in brackets ("[Diamond Sword]"); pre-1.7 logs print it bare.
_GROUPS = {
    "1": "(?P<victim>.+?)",
    "2": "(?P<killer>.+?)",
    "3": r"(?:\[(?P<item>.+?)\]|(?P<item_bare>.+?))",
    "": "(?P<stripped>.*)",
}
_CAUSE_PREFIXES = ("death.attack.", "death.")
# Pre-1.7 servers print the projectile when it has no shooter ("Steve was shot by arrow"):
# a projectile is not a killer, so these names give no ``killer``.
_PROJECTILES = frozenset(
    ("arrow", "fireball", "smallfireball", "snowball", "thrownpotion", "witherskull")
)


@dataclass(slots=True, frozen=True)
class _Matcher:
    cause: str
    pattern: re.Pattern[str]
    literal_length: int


def cause_of(key: str) -> str:
    """The ``death.cause`` value of a template key: the key without its prefix."""
    for prefix in _CAUSE_PREFIXES:
        if key.startswith(prefix):
            return key[len(prefix) :]
    return key


def _compile(template: str) -> tuple[re.Pattern[str], int, str]:
    """The regex of a template, its literal length, and its literal text up to a placeholder."""
    parts: list[str] = []
    literal = 0
    position = 0
    head: str | None = None
    for placeholder in _PLACEHOLDER.finditer(template):
        text = template[position : placeholder.start()]
        if head is None:
            head = text
        parts += [re.escape(text), _GROUPS[placeholder.group(1) or ""]]
        literal += len(text)
        position = placeholder.end()
    text = template[position:]
    parts.append(re.escape(text))
    literal += len(text)
    return re.compile("".join(parts)), literal, template if head is None else head


def _load() -> dict[str, list[str]]:
    """Template key -> wordings, from the packaged data file."""
    data = resources.files("agent.parse.minecraft").joinpath("data/death_templates.json")
    templates = json.loads(data.read_text(encoding="utf-8"))["templates"]
    return {key: [w["text"] for w in wordings] for key, wordings in templates.items()}


def _build_index(
    templates: dict[str, list[str]],
) -> tuple[dict[str, list[_Matcher]], dict[str, list[_Matcher]], list[_Matcher]]:
    """Index tails by their first two literal words, and by one word when that is all."""
    # One wording can belong to several keys (death.attack.mob and .player both say
    # "was slain by"); the first key in sorted order gives the cause.
    keys_of: dict[str, list[str]] = {}
    for key in sorted(templates):
        for text in templates[key]:
            keys_of.setdefault(text, []).append(key)
    by_two: dict[str, list[_Matcher]] = {}
    by_one: dict[str, list[_Matcher]] = {}
    prefixed: list[_Matcher] = []
    for text, keys in keys_of.items():
        cause = cause_of(keys[0])
        if not text.startswith("%1$s "):
            pattern, literal, _ = _compile(text)
            prefixed.append(_Matcher(cause, pattern, literal))
            continue
        pattern, literal, head = _compile(text[5:])
        words = head.split()
        matcher = _Matcher(cause, pattern, literal)
        if len(words) >= 2:
            by_two.setdefault(f"{words[0]} {words[1]}", []).append(matcher)
        else:
            by_one.setdefault(words[0], []).append(matcher)
    for two, matchers in by_two.items():
        matchers += by_one.get(two.split(" ", 1)[0], [])
    for matchers in (*by_two.values(), *by_one.values(), prefixed):
        matchers.sort(key=lambda m: -m.literal_length)
    return by_two, by_one, prefixed


_BY_TWO, _BY_ONE, _PREFIXED = _build_index(_load())
FIRST_WORDS = frozenset([*_BY_ONE, *(two.split(" ", 1)[0] for two in _BY_TWO)])
_PREFIXED_STARTS = tuple({m.pattern.pattern.split("\\", 1)[0] for m in _PREFIXED} - {""})


def match_tail(tail: str) -> dict[str, Any] | None:
    """The ``death`` field for the text after the victim's name, or None if not a death."""
    space = tail.find(" ")
    if (tail if space < 0 else tail[:space]) not in FIRST_WORDS or len(tail) > MAX_TAIL:
        return None  # most lines: one slice and one set look-up
    if space < 0:
        matchers = _BY_ONE.get(tail)
    else:
        second = tail.find(" ", space + 1)
        matchers = _BY_TWO.get(tail if second < 0 else tail[:second])
        if matchers is None:
            matchers = _BY_ONE.get(tail[:space])
    if matchers is None:
        return None
    for matcher in matchers:
        found = matcher.pattern.fullmatch(tail)
        if found is not None:
            return _death(matcher.cause, found)
    return None


def match_prefixed(message: str) -> dict[str, Any] | None:
    """Death messages without a leading victim ("Actually, the message was too long...")."""
    if not message.startswith(_PREFIXED_STARTS) or len(message) > 4 * MAX_TAIL:
        return None
    for matcher in _PREFIXED:
        if matcher.pattern.fullmatch(message):
            return {"cause": matcher.cause}
    return None


def _death(cause: str, found: re.Match[str]) -> dict[str, Any]:
    death: dict[str, Any] = {"cause": cause}
    groups = found.groupdict()
    killer = groups.get("killer")
    if killer and killer.lower() not in _PROJECTILES:
        death["killer"] = killer
    item = groups.get("item") or groups.get("item_bare")
    if item:
        death["item"] = item
    return death


# A villager's death: "Villager <class>['<name>'/<id>, l='<world>', x=.., y=.., z=..]
# died, message: '<death message>'". Split at the fixed middle with str.find and read the
# descriptor with separate searches, so no pattern spans the whole (untrusted) line.
_VILLAGER_MIDDLE = "] died, message: '"
_VILLAGER_NAME = re.compile(r"Villager \S*\['([^']*)'/")
_VILLAGER_WORLD = re.compile(r"\bl='([^']*)'")
_NAMED = "Named entity "
_NAMED_MIDDLE = "] died: "
_NAMED_NAME = re.compile(r"Named entity \S*?\['([^']*)'/")
_VILLAGER_XYZ = re.compile(r"\bx=(-?[\d.]+), y=(-?[\d.]+), z=(-?[\d.]+)")


def villager_death(text: str) -> dict[str, Any] | None:
    """``Villager ...['Name'/id, l='world', x=.., y=.., z=..] died, message: '...'``, and a
    named pet's ``Named entity Wolf['Rex'/id, l=.., x=..] died: Rex was slain by Zombie``."""
    if text.startswith(_NAMED):
        middle = text.find(_NAMED_MIDDLE)
        name = _NAMED_NAME.match(text)
        if middle < 0 or name is None:
            return None
        said = text[middle + len(_NAMED_MIDDLE) :]
        return _entity_death(name[1], text[:middle], said)
    middle = text.rfind(_VILLAGER_MIDDLE)
    name = _VILLAGER_NAME.match(text)
    if middle < 0 or name is None or not text.endswith("'"):
        return None
    said = text[middle + len(_VILLAGER_MIDDLE) : -1]
    return _entity_death(name[1], text[:middle], said)


def _entity_death(entity: str, descriptor: str, said: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"entity": entity}
    xyz = _VILLAGER_XYZ.search(descriptor)
    if xyz is not None:
        coords = location(xyz[1], xyz[2], xyz[3])
        world = _VILLAGER_WORLD.search(descriptor)
        if coords is not None and world is not None and world[1]:
            level = world[1]
            coords["world"] = level[12:-1] if level.startswith("ServerLevel[") else level
        if coords is not None:
            fields["location"] = coords
    tail = said[len(entity) + 1 :] if said.startswith(entity + " ") else said.partition(" ")[2]
    death = match_tail(tail) or match_prefixed(said)
    if death is not None:
        fields["death"] = death
    return fields
