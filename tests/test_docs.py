"""The documents the code cites exist, down to the section: every `docs/<name>.md#<section>` or
`README.md#<section>` in the code, the chart and the protos, and every link between the
documents, names a file and a heading that are there. Every environment variable the code reads
is in the operator guide's table."""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Where code cites documents: the packages, the tests, the chart, the protos, the build files.
CITING_SUFFIXES = {".py", ".proto", ".yaml", ".yml", ".tpl", ".toml", ".txt", ".json", ""}
SKIPPED_PARTS = {"node_modules", "static", "todo_contracts"}
CITATION = re.compile(r"\b((?:docs/[\w-]+|README)\.md)(?:#([\w-]+))?")
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")
# How the code once cited documents the repository does not hold, or sections by their title.
STALE_CITATION = re.compile(r"DESIGN\.md|README[,']s? \"|README\)|see the README")
ENVIRONMENT_VARIABLE = re.compile(r"[\"'`]((?:TODO|KAFKA|DATABASE)_[A-Z0-9_]+)[\"'`]")
# Variables read only by the tests' own harness, documented in docs/development.md instead.
TEST_ONLY_VARIABLES = {"TODO_FAULT_SEED", "TODO_FAULT_SOAK_SECONDS"}


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [
        ROOT / name
        for name in listed
        if not SKIPPED_PARTS.intersection(Path(name).parts) and (ROOT / name).is_file()
    ]


def citing_files() -> list[Path]:
    return [
        path
        for path in tracked_files()
        if path.suffix in CITING_SUFFIXES and path.name != "test_docs.py"
    ]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@cache
def anchors(document: Path) -> frozenset[str]:
    found: set[str] = set()
    in_code = False
    for line in document.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and (heading := re.match(r"#{1,6} (.+)", line)):
            found.add(slug(heading.group(1)))
    return frozenset(found)


def broken(target: Path, anchor: str | None) -> str | None:
    if not target.is_file():
        return f"no file {target.relative_to(ROOT)}"
    if anchor and anchor not in anchors(target):
        return f"no section #{anchor} in {target.relative_to(ROOT)}"
    return None


def test_slug_follows_github() -> None:
    assert slug("The audit log's signing key") == "the-audit-logs-signing-key"
    assert slug("Example: SASL (SCRAM) over TLS to Redpanda Cloud") == (
        "example-sasl-scram-over-tls-to-redpanda-cloud"
    )


def test_every_citation_in_code_names_a_section_that_exists() -> None:
    problems = []
    for path in citing_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            where = f"{path.relative_to(ROOT)}:{number}"
            for match in CITATION.finditer(line):
                problem = broken(ROOT / match.group(1), match.group(2))
                if problem:
                    problems.append(f"{where}: {match.group(0)}: {problem}")
            if STALE_CITATION.search(line):
                problems.append(f"{where}: cites a document by title or one that is not here")
    assert problems == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_link_between_documents_resolves(document: Path) -> None:
    problems = []
    for target in MARKDOWN_LINK.findall(document.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        path, _, anchor = target.partition("#")
        problem = broken((document.parent / path).resolve() if path else document, anchor)
        if problem:
            problems.append(f"{target}: {problem}")
    assert problems == []


def test_the_readme_is_a_front_door() -> None:
    """The README says what it is and how to run it; the rest lives in docs/."""
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 160


def test_every_environment_variable_is_documented() -> None:
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    development = (ROOT / "docs" / "development.md").read_text(encoding="utf-8")
    read: dict[str, str] = {}
    for path in tracked_files():
        if path.suffix != ".py" or path.parts[len(ROOT.parts)] in {"tests", "bench"}:
            continue
        for name in ENVIRONMENT_VARIABLE.findall(path.read_text(encoding="utf-8")):
            read.setdefault(name, str(path.relative_to(ROOT)))
    missing = {
        name: where
        for name, where in read.items()
        if f"`{name}`" not in operations
        and not (name in TEST_ONLY_VARIABLES and f"`{name}`" in development)
    }
    assert missing == {}
