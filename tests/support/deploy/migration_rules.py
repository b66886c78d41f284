"""Expand and contract, read from a migration's SQL (docs/operations.md#deploying-to-kubernetes).

After `helm rollback` the previous release runs on the schema a newer release migrated, so a
release's migrations only expand it: new tables, nullable or defaulted columns, new indexes.
Contract operations (drop, rename, retype, or tighten what the previous release writes) break
that release. A migration may still hold them once the previous release no longer uses what
they touch, and then says so in a comment of its own: `-- contract: <what goes, and since which
release nothing uses it>`. The check is lexical on purpose: it reads the SQL a reviewer reads.
"""

from __future__ import annotations

import re
from typing import Final

# A line comment `-- contract: <reason>`; the reason must say something.
_CONTRACT_NOTE: Final = re.compile(r"^[ \t]*--[ \t]*contract:[ \t]*\S.*$", re.MULTILINE | re.I)
_COMMENTS_AND_TEXT: Final = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'", re.DOTALL)

# (what it is, its pattern): matched against SQL without comments and string literals.
_OPERATIONS: Final = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("DROP", r"\bDROP\s+(?!NOT\s+NULL\b)"),  # DROP NOT NULL only relaxes
        ("RENAME", r"\bRENAME\b"),
        ("change of type", r'\bALTER\s+(?:COLUMN\s+)?(?:\w+|"[^"]+")\s+(?:SET\s+DATA\s+)?TYPE\b'),
        ("SET NOT NULL", r"\bSET\s+NOT\s+NULL\b"),
        ("ADD CONSTRAINT", r"\bADD\s+(?:CONSTRAINT|CHECK|UNIQUE|PRIMARY|FOREIGN)\b"),
    )
)
_ADD_COLUMN: Final = re.compile(
    r"\bADD\s+(?!CONSTRAINT\b|CHECK\b|UNIQUE\b|PRIMARY\b|FOREIGN\b)", re.IGNORECASE
)


def _clauses(statement: str) -> list[str]:
    """The statement split at its top-level commas (an ALTER TABLE's actions)."""
    parts: list[str] = []
    depth = start = 0
    for index, char in enumerate(statement):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(statement[start:index])
            start = index + 1
    parts.append(statement[start:])
    return parts


def _required_column_added(sql: str) -> bool:
    """An ALTER TABLE that adds a NOT NULL column without a default: the previous release's
    inserts, which do not name it, would fail."""
    for statement in sql.split(";"):
        if not re.match(r"\s*ALTER\s+TABLE\b", statement, re.IGNORECASE):
            continue
        for clause in _clauses(statement):
            action = re.search(r"\bADD\b.*", clause, re.IGNORECASE | re.DOTALL)
            if action is None or not _ADD_COLUMN.match(action.group()):
                continue
            words = action.group().upper()
            if re.search(r"\bNOT\s+NULL\b", words) and not re.search(
                r"\bDEFAULT\b|\bGENERATED\b", words
            ):
                return True
    return False


def contract_operations(sql: str) -> list[str]:
    """The contract operations `sql` performs, in the order of the rules above."""
    code = _COMMENTS_AND_TEXT.sub(" ", sql)
    found = [name for name, pattern in _OPERATIONS if pattern.search(code)]
    if _required_column_added(code):
        found.append("NOT NULL column without a default")
    return found


def marked_as_contract(sql: str) -> bool:
    """Whether the migration says why its contract operations are safe now."""
    return _CONTRACT_NOTE.search(sql) is not None
