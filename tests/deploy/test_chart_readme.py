"""values.schema.json describes every value of charts/todo and refuses a misspelt one;
charts/todo/README.md lists them all, generated from the schema and values.yaml
(tests/support/deploy/chart_readme.py); the packaged chart holds the README and none of the
repository's bookkeeping."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

from helm_python import chart as helm

from tests.support.deploy import chart_readme
from tests.support.deploy.charts import CHART


def schema_nodes() -> list[tuple[str, dict[str, Any], bool]]:
    """Every node of values.schema.json with its path, and whether it is a value's (a property,
    held strict) or a Kubernetes object's item (permissive)."""
    schema = json.loads((CHART / "values.schema.json").read_text())
    found: list[tuple[str, dict[str, Any], bool]] = []

    def walk(path: str, node: dict[str, Any], strict: bool) -> None:
        found.append((path, node, strict))
        for name, child in node.get("properties", {}).items():
            walk(f"{path}.{name}", child, strict)
        items = node.get("items")
        if isinstance(items, dict) and "properties" in items:
            walk(f"{path}[]", items, strict=False)

    for name, node in schema["properties"].items():
        walk(name, node, strict=True)
    for name, node in schema["definitions"].items():
        walk(f"definitions.{name}", node, strict=True)
    return found


def test_every_value_is_described_and_misspellings_are_refused() -> None:
    nodes = schema_nodes()
    assert len(nodes) > 200
    undescribed = [path for path, node, _ in nodes if not node.get("description")]
    assert undescribed == []
    loose = [
        path
        for path, node, strict in nodes
        if strict and "properties" in node and node.get("additionalProperties") is not False
    ]
    assert loose == []


def test_the_chart_readme_lists_every_value_and_is_current() -> None:
    current = chart_readme.README.read_text()
    assert current == chart_readme.generated(current), (
        f"charts/todo/README.md is not current: run `{chart_readme.COMMAND}` (nox -s chart_readme)"
    )
    listed = {line.split("`")[1] for line in current.splitlines() if line.startswith("| `")}
    for path, _, strict in schema_nodes():
        if not strict:
            continue
        shown = path
        if path.startswith("definitions.component"):
            shown = path.replace("definitions.component", "components.<name>", 1)
        elif path.startswith("components."):
            shown = "components.<name>"
        assert shown in listed, path


def test_the_packaged_chart_holds_the_readme_and_not_the_repository_s_bookkeeping(
    tmp_path: Path,
) -> None:
    archive = helm.package(CHART, destination=tmp_path)
    with tarfile.open(archive) as packaged:
        names = set(packaged.getnames())
    assert {"todo/README.md", "todo/values.schema.json", "todo/templates/tests/check.yaml"} <= names
    assert "todo/previous-release" not in names
