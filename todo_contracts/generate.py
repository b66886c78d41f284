"""Generates the Python stubs in this package from `proto/`.

protoc names modules after the proto package (`todo.tasks.v1`); the stubs live
in `todo_contracts.tasks.v1` instead, so imports between generated modules are
rewritten. Run through `nox -s proto`; a test regenerates into a temporary
directory and fails when the committed stubs differ.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
PACKAGE = Path(__file__).resolve().parent
_IMPORT = re.compile(r"^(from|import) todo\.(\w+)\.v1\b", re.MULTILINE)
_HEADER = '"""Generated from proto/todo/{area}/v1 by `nox -s proto`; do not edit."""\n'


def _run_protoc(out: Path) -> None:
    well_known = str(resources.files("grpc_tools") / "_proto")
    files = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        f"--plugin=protoc-gen-mypy_grpc={Path(sys.executable).parent / 'protoc-gen-mypy_grpc'}",
        f"--mypy_grpc_out={out}",
        *files,
    ]
    if protoc.main(args) != 0:  # pragma: no cover - protoc printed why
        raise SystemExit("protoc failed")


def generate(target: Path) -> None:
    """Writes the generated modules for every proto area under `target`."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        _run_protoc(out)
        for area_dir in sorted((out / "todo").iterdir()):
            dest = target / area_dir.name
            if dest.exists():
                shutil.rmtree(dest)
            (dest / "v1").mkdir(parents=True)
            header = _HEADER.format(area=area_dir.name)
            (dest / "__init__.py").write_text(header)
            (dest / "v1" / "__init__.py").write_text(header)
            for source in sorted((area_dir / "v1").iterdir()):
                text = _IMPORT.sub(r"\1 todo_contracts.\2.v1", source.read_text())
                (dest / "v1" / source.name).write_text(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=PACKAGE, help="package directory to write")
    generate(parser.parse_args(argv).out)


if __name__ == "__main__":
    main(sys.argv[1:])
