"""`python -m gateway.export_schema [--check]`: keep `gateway/schema.graphql` in step with the code.

Frontend teams and CI diff the SDL; `--check` exits 1 when the file is stale.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from gateway.schema import build_schema

SCHEMA_PATH = Path(__file__).with_name("schema.graphql")


def render() -> str:
    return build_schema().as_str() + "\n"


def main(argv: Sequence[str] | None = None, path: Path = SCHEMA_PATH) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.export_schema", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is not up to date")
    args = parser.parse_args(argv)
    sdl = render()
    if args.check:
        if not path.exists() or path.read_text(encoding="utf-8") != sdl:
            print(f"{path} is stale: run python -m gateway.export_schema", file=sys.stderr)
            return 1
        return 0
    path.write_text(sdl, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
