"""`python -m gateway.schema_check [--against REV]`: the GraphQL schema only changes compatibly.

Compares `gateway/schema.graphql` with its version at REV (default HEAD: what
this change does; CI passes HEAD~1, as for `buf breaking`) using
graphql-core's `find_breaking_changes`. A breaking change fails the check
unless `gateway/schema_breaks.txt` lists its description: the way to mark a
break as deliberate, reviewed in the same change. Dangerous changes (a
default that changed, a value added to an enum) are reported, not failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from graphql import build_schema, find_breaking_changes, find_dangerous_changes

from gateway.export_schema import SCHEMA_PATH

ALLOWED_PATH = SCHEMA_PATH.with_name("schema_breaks.txt")


def committed_schema(revision: str) -> str | None:
    """The SDL at `revision`, or None when it has no such file (first commit)."""
    relative = SCHEMA_PATH.relative_to(Path(__file__).resolve().parents[1])
    result = subprocess.run(  # noqa: S603 - fixed git command
        ["git", "show", f"{revision}:{relative.as_posix()}"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
        cwd=SCHEMA_PATH.parent,
    )
    return result.stdout if result.returncode == 0 else None


def allowed_breaks(path: Path = ALLOWED_PATH) -> set[str]:
    """Descriptions of deliberate breaks, one per line; blank lines and # comments ignored."""
    if not path.exists():
        return set()
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {line for line in lines if line and not line.startswith("#")}


def unexpected_breaks(old_sdl: str, new_sdl: str, allowed: set[str]) -> tuple[list[str], list[str]]:
    """(breaking changes not marked deliberate, dangerous changes) from `old_sdl` to `new_sdl`."""
    old, new = build_schema(old_sdl), build_schema(new_sdl)
    breaks = [change.description for change in find_breaking_changes(old, new)]
    dangers = [change.description for change in find_dangerous_changes(old, new)]
    return [description for description in breaks if description not in allowed], dangers


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.schema_check", description=__doc__)
    parser.add_argument("--against", default="HEAD", help="git revision to compare with")
    args = parser.parse_args(argv)
    old_sdl = committed_schema(args.against)
    if old_sdl is None:
        print(f"no {SCHEMA_PATH.name} at {args.against}: nothing to compare")
        return 0
    breaks, dangers = unexpected_breaks(
        old_sdl, SCHEMA_PATH.read_text(encoding="utf-8"), allowed_breaks()
    )
    for description in dangers:
        print(f"dangerous (allowed): {description}")
    for description in breaks:
        print(f"BREAKING: {description}", file=sys.stderr)
    if breaks:
        print(f"to make a break deliberate, add its line to {ALLOWED_PATH.name}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
