"""The schema compatibility check: breaking changes fail unless marked deliberate."""

from __future__ import annotations

from pathlib import Path

from gateway.schema_check import allowed_breaks, unexpected_breaks

OLD = "type Query { task(id: ID!): Task }\ntype Task { id: ID! title: String! done: Boolean }"


def test_a_removed_field_breaks_and_an_added_one_does_not() -> None:
    removed = "type Query { task(id: ID!): Task }\ntype Task { id: ID! title: String! }"
    assert unexpected_breaks(OLD, removed, set())[0] == ["Field Task.done was removed."]
    added = OLD.replace("done: Boolean", "done: Boolean due: String")
    assert unexpected_breaks(OLD, added, set()) == ([], [])


def test_a_required_argument_breaks() -> None:
    required = OLD.replace("task(id: ID!)", "task(id: ID!, owner: String!)")
    [description] = unexpected_breaks(OLD, required, set())[0]
    assert "owner" in description


def test_a_break_listed_as_deliberate_passes(tmp_path: Path) -> None:
    listed = tmp_path / "breaks.txt"
    listed.write_text("# reviewed\n\nField Task.done was removed.\n", encoding="utf-8")
    removed = "type Query { task(id: ID!): Task }\ntype Task { id: ID! title: String! }"
    assert unexpected_breaks(OLD, removed, allowed_breaks(listed))[0] == []
