"""The committed Python stubs are exactly what `nox -s proto` generates from proto/."""

from __future__ import annotations

from pathlib import Path

from todo_contracts.generate import PACKAGE, generate


def _stubs(root: Path, areas: set[str]) -> dict[str, bytes]:
    """Generated files of the given area directories, by path relative to `root`."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for area in areas
        for path in (root / area).rglob("*")
        if path.suffix in {".py", ".pyi"}
    }


def test_stubs_are_fresh(tmp_path: Path) -> None:
    generate(tmp_path)
    areas = {path.name for path in tmp_path.iterdir()}
    assert areas == {"tasks", "events", "notify", "audit", "live", "recur"}
    expected, committed = _stubs(tmp_path, areas), _stubs(PACKAGE, areas)
    stale = sorted(
        name
        for name in expected.keys() | committed.keys()
        if expected.get(name) != committed.get(name)
    )
    assert not stale, f"stale generated stubs, run `nox -s proto`: {stale}"
