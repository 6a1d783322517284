"""Skill packs: folders under assistant/skills/ holding a SKILL.md with front matter."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

SKILLS_DIR = Path(__file__).with_name("skills")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Skill:
    slug: str
    name: str
    description: str
    body: str


def _parse(slug: str, text: str) -> Skill:
    fields: dict[str, str] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        for line in match.group(1).splitlines():
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
        text = text[match.end() :]
    return Skill(slug, fields.get("name", slug), fields.get("description", ""), text.strip())


@functools.cache
def all_skills(directory: Path = SKILLS_DIR) -> tuple[Skill, ...]:
    """Every skill pack, sorted by name (read once per process)."""
    packs = (path for path in sorted(directory.glob("*/SKILL.md")))
    return tuple(sorted((_parse(p.parent.name, p.read_text("utf-8")) for p in packs), key=lambda s: s.name))


def get_skill(slug: str | None) -> Skill | None:
    return next((skill for skill in all_skills() if skill.slug == slug), None)
