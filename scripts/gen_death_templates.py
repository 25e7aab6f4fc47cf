"""Generate agent/parse/minecraft/data/death_templates.json from shared/minecraft/.

Reads every ``death_templates_<version>.json`` (the ``death.*`` keys of each Minecraft
Java version's English language file) and writes one JSON file: for each template key,
its distinct wordings, each with the versions it appears in. Wordings that are not
messages about a victim (``death.attack.badRespawnPoint.link``: a link text) are left
out. A few pre-1.7 wordings that minecraft-data does not carry (seen in mc-coal's test
lines) are added under ``death.legacy.*`` keys, version ``pre-1.7``.

    python scripts/gen_death_templates.py [SHARED_MINECRAFT_DIR] [OUTPUT]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "minecraft"
DEFAULT_OUTPUT = ROOT / "agent" / "parse" / "minecraft" / "data" / "death_templates.json"
SOURCE_NAME = "minecraft-data 3.117.0 data/pc/<version>/language.json (MIT), via shared/minecraft"

# Pre-1.7 wordings (Minecraft 1.5/1.6 and mc-coal's test lines) absent from minecraft-data.
LEGACY_VERSION = "pre-1.7"
LEGACY_TEMPLATES = {
    "death.legacy.fell.ladder.assist": "%1$s was shot off a ladder by %2$s",
    "death.legacy.fell.vines.assist": "%1$s was shot off some vines by %2$s",
    "death.legacy.fell.blown": "%1$s was blown from a high place by %2$s",
    "death.legacy.fell.fire": "%1$s fell into a patch of fire",
    "death.legacy.fell.cacti": "%1$s fell into a patch of cacti",
    "death.legacy.fell.finish.item": "%1$s got finished off by %2$s using %3$s",
    "death.legacy.fell.outOfWorld": "%1$s fell from a high place and fell out of the world",
    "death.legacy.fell.void.assist": "%1$s was knocked into the void by %2$s",
    "death.legacy.lava.player": "%1$s tried to swim in lava while trying to escape %2$s",
    "death.legacy.inFire.player": "%1$s walked into a fire whilst fighting %2$s",
}


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def _is_message(template: str) -> bool:
    """A death message names its victim (%1$s) or embeds a stripped message (%s)."""
    return "%1$s" in template or "%s" in template


def collect(source: Path) -> dict[str, dict[str, list[str]]]:
    """Map template key -> wording -> sorted versions, over every version file."""
    by_key: dict[str, dict[str, list[str]]] = {}
    files = sorted(source.glob("death_templates_*.json"))
    versions = [(path, path.stem.removeprefix("death_templates_")) for path in files]
    versions = [(p, v) for p, v in versions if v[:1].isdigit()]  # not _summary
    if not versions:
        raise SystemExit(f"no death_templates_<version>.json in {source}")
    for path, version in sorted(versions, key=lambda pv: _version_key(pv[1])):
        death = json.loads(path.read_text(encoding="utf-8"))["death"]
        for key, template in death.items():
            if _is_message(template):
                by_key.setdefault(key, {}).setdefault(template, []).append(version)
    for key, template in LEGACY_TEMPLATES.items():
        by_key.setdefault(key, {}).setdefault(template, []).append(LEGACY_VERSION)
    return by_key


def render(source: Path) -> str:
    """The generated file's text: keys sorted, one wording per line, versions listed."""
    by_key = collect(source)
    templates = {
        key: [{"text": text, "versions": versions} for text, versions in wordings.items()]
        for key, wordings in sorted(by_key.items())
    }
    lines = [
        "{",
        f'"source": {json.dumps(SOURCE_NAME)},',
        '"generator": "scripts/gen_death_templates.py",',
        '"templates": {',
    ]
    items = list(templates.items())
    for index, (key, wordings) in enumerate(items):
        comma = "," if index < len(items) - 1 else ""
        body = json.dumps(wordings, ensure_ascii=False, separators=(",", ":"))
        lines.append(f"{json.dumps(key)}:{body}{comma}")
    lines += ["}", "}", ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Write the generated file; arguments: [source dir] [output file]."""
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    output = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUTPUT
    output.write_text(render(source), encoding="utf-8")
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
