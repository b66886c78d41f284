"""The Dockerfile read as a builder reads it, for the tests that check it and the one that runs
what its image would run (its stages, and the environment its final stage sets)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parents[3]


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[tuple[str, str]]


def stages() -> list[Stage]:
    """The Dockerfile's stages, each with its (INSTRUCTION, arguments) in order."""
    text = (ROOT / "Dockerfile").read_text()
    logical = re.sub(r"\\\n", " ", text)
    found: list[Stage] = []
    for raw in logical.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            match = re.fullmatch(r"(\S+)\s+AS\s+(\S+)", arguments.strip(), re.IGNORECASE)
            assert match, f"every stage is named: FROM {arguments}"
            found.append(Stage(match.group(1), match.group(2), []))
        elif found:
            found[-1].instructions.append((instruction, arguments.strip()))
    return found


def image_environment() -> dict[str, str]:
    """The variables the final stage's ENV instructions set (`KEY=value` pairs), as written."""
    environment: dict[str, str] = {}
    for instruction, arguments in stages()[-1].instructions:
        if instruction == "ENV":
            for pair in shlex.split(arguments):
                key, _, value = pair.partition("=")
                environment[key] = value
    return environment
