"""The requirement catalog: IDs, levels and wording, loaded from requirements.yaml.

Every other part of the suite refers to requirements by ID and reads their
wording from here, so a requirement is stated exactly once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

AREAS = {
    # area: its title in reports; the order is the catalog's reading order
    "envelope": "Response envelope",
    "payload": "Success payload",
    "auth": "Authorization",
    "body": "Request body",
    "time": "Time",
    "method": "Method",
}


class Level(str, enum.Enum):
    """RFC 2119 level: a failed MUST fails the run, a failed SHOULD warns."""

    MUST = "MUST"
    SHOULD = "SHOULD"


@dataclass(frozen=True)
class Requirement:
    id: str
    level: Level
    area: str
    statement: str
    seed: str
    should: str | None = None
    errata: str | None = None


@dataclass(frozen=True)
class Catalog:
    version: int
    requirements: dict[str, Requirement]

    def __getitem__(self, requirement_id: str) -> Requirement:
        return self.requirements[requirement_id]

    def __iter__(self):
        return iter(self.requirements.values())

    def __len__(self) -> int:
        return len(self.requirements)

    def __contains__(self, requirement_id: object) -> bool:
        return requirement_id in self.requirements


_FIELDS = {"id", "level", "area", "statement", "seed", "should", "errata"}


def parse_catalog(text: str) -> Catalog:
    """Parse and validate catalog YAML; raises ValueError naming the bad entry."""
    document = yaml.safe_load(text)
    entries: dict[str, Requirement] = {}
    for raw in document["requirements"]:
        unknown = set(raw) - _FIELDS
        if unknown:
            raise ValueError(f"{raw.get('id')}: unknown fields {sorted(unknown)}")
        requirement = Requirement(**{**raw, "level": Level(raw["level"])})
        if requirement.area not in AREAS:
            raise ValueError(f"{requirement.id}: unknown area {requirement.area!r}")
        if requirement.id in entries:
            raise ValueError(f"{requirement.id}: listed twice")
        entries[requirement.id] = requirement
    return Catalog(version=document["version"], requirements=entries)


@cache
def load_catalog() -> Catalog:
    """The catalog shipped with the package."""
    text = resources.files(__package__).joinpath("requirements.yaml").read_text("utf-8")
    return parse_catalog(text)
