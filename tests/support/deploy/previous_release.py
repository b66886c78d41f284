"""The previous release (charts/todo/previous-release) and its files, read from git history.

The tests need the clone's history (CI clones main in full). A release that is missing, as in
a shallow clone, fails the test with what to do: skipping would let a rollback break unseen.
"""

from __future__ import annotations

import io
import re
import subprocess
import tarfile
from pathlib import Path
from typing import Final

import pytest

ROOT: Final = Path(__file__).resolve().parents[3]
MARKER: Final = ROOT / "charts" / "todo" / "previous-release"
# Every component's migrations (`<package>/migrations/NNNN_name.sql`); tests' own sets excluded.
_MIGRATION: Final = re.compile(r"[a-z_]+/migrations/\d{4}_[a-z0-9_]+\.sql")


def _git(*arguments: str) -> bytes:
    done = subprocess.run(["git", "-C", str(ROOT), *arguments], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"git {' '.join(arguments)} failed: {done.stderr.decode().strip()}")
    return done.stdout


def commit() -> str:
    """The previous release's full commit id, present in this clone's history."""
    lines = [
        line.strip()
        for line in MARKER.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if len(lines) != 1 or not re.fullmatch(r"[0-9a-f]{40}", lines[0]):
        pytest.fail(f"{MARKER.relative_to(ROOT)} must hold one full commit id besides # comments")
    found = subprocess.run(
        ["git", "-C", str(ROOT), "cat-file", "-e", f"{lines[0]}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    if found.returncode != 0:
        pytest.fail(
            f"the previous release {lines[0]} ({MARKER.relative_to(ROOT)}) is not in this "
            f"checkout's history ({found.stderr.decode().strip() or 'no such commit'}): the "
            "rollback tests need a full clone (`git fetch --unshallow`)"
        )
    return lines[0]


def export(release: str, destination: Path) -> Path:
    """The release's tree (`git archive`), written under `destination`; returns its root."""
    with tarfile.open(fileobj=io.BytesIO(_git("archive", "--format=tar", release))) as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(destination, filter="data")
        else:  # Python 3.11 before 3.11.4 has no filters; this is the clone's own history
            archive.extractall(destination)
    return destination


def migrations(release: str | None = None) -> dict[str, str]:
    """Every component's migration files (path relative to the root → SQL), as the release
    committed them, or as they are in the work tree when `release` is None."""
    if release is None:
        paths = [path.relative_to(ROOT).as_posix() for path in ROOT.glob("*/migrations/*.sql")]
        return {
            path: (ROOT / path).read_text(encoding="utf-8")
            for path in sorted(paths)
            if _MIGRATION.fullmatch(path)
        }
    listed = _git("ls-tree", "-r", "--name-only", release).decode().splitlines()
    return {
        path: _git("show", f"{release}:{path}").decode()
        for path in sorted(listed)
        if _MIGRATION.fullmatch(path)
    }
