"""Property: a line composed from random parts reads back as exactly those parts.

Each part (title words, a due, a recurrence, tags, a priority, reminders) comes with the field
it must give and its place in the line, so the check is against what was written, not against
the parser's own reading: every part's words are one span of its field, and the title is the
title words in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.quickadd.table import BERLIN, DUES, NOW
from todo_quickadd import Field, Priority, parse_quick_add

# Words no clause reads: they always stay in the title.
TITLE_WORDS = ["buy", "milk", "report", "garden", "fix", "car", "write", "email", "desk", "Ölkanne"]
RECURRENCES = {
    "every day at 9am": "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
    "every weekday": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    "every 2 weeks on friday": "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR",
    "every month on the last day": "FREQ=MONTHLY;BYMONTHDAY=-1",
    "daily": "FREQ=DAILY",
    "every 3 days after completion": "FREQ=DAILY;INTERVAL=3 after completion",
}
PRIORITIES = {
    "!low": Priority.LOW,
    "!high": Priority.HIGH,
    "p1": Priority.URGENT,
    "p3": Priority.MEDIUM,
}
REMINDERS = {
    "remind 30 min before": 30,
    "remind me 2 hours before": 120,
    "remind 1 day before": 1440,
}


@dataclass(frozen=True)
class Part:
    text: str
    field: Field


@st.composite
def lines(draw: st.DrawFn) -> tuple[list[Part], dict[str, object]]:
    """Parts in a random order, and the fields they must give."""
    title = draw(st.lists(st.sampled_from(TITLE_WORDS), min_size=1, max_size=4))
    parts = [Part(word, Field.TITLE) for word in title]
    expected: dict[str, object] = {"priority": None}
    timing = draw(st.sampled_from(["none", "due", "recurrence"]))
    if timing == "due":
        phrase, due = draw(st.sampled_from(DUES))
        parts.append(Part(phrase, Field.DUE))
        expected["due"] = datetime.fromisoformat(due).astimezone(UTC)
    elif timing == "recurrence":
        phrase = draw(st.sampled_from(sorted(RECURRENCES)))
        parts.append(Part(phrase, Field.RECURRENCE))
        expected["rule"] = RECURRENCES[phrase]
    tags = draw(st.lists(st.sampled_from(["home", "work", "Q3", "küche"]), unique=True, max_size=3))
    parts += [Part(f"#{tag}", Field.TAG) for tag in tags]
    if draw(st.booleans()):
        word = draw(st.sampled_from(sorted(PRIORITIES)))
        parts.append(Part(word, Field.PRIORITY))
        expected["priority"] = PRIORITIES[word]
    reminders = (
        draw(st.lists(st.sampled_from(sorted(REMINDERS)), max_size=2)) if timing != "none" else []
    )
    parts += [Part(reminder, Field.REMINDER) for reminder in reminders]
    order = draw(st.permutations(range(len(parts))))
    ordered = [parts[i] for i in order]
    expected["tags"] = tuple(p.text[1:] for p in ordered if p.field is Field.TAG)
    expected["minutes"] = tuple(REMINDERS[p.text] for p in ordered if p.field is Field.REMINDER)
    return ordered, expected


@settings(max_examples=300, deadline=None)
@given(composed=lines(), separator=st.sampled_from([" ", "  ", " \t "]))
def test_a_composed_line_reads_back_as_its_parts(
    composed: tuple[list[Part], dict[str, object]], separator: str
) -> None:
    parts, expected = composed
    line, places = "", []
    for part in parts:
        if line:
            line += separator
        places.append((len(line), len(line) + len(part.text), part.field))
        line += part.text
    parsed = parse_quick_add(line, BERLIN, NOW)

    title_words = [p.text for p in parts if p.field is Field.TITLE]
    assert parsed.title.split() == title_words
    assert parsed.tags == expected["tags"]
    assert parsed.priority == expected["priority"]
    assert parsed.remind_minutes_before == expected["minutes"]
    assert parsed.recurrence_rule == expected.get("rule")
    if "due" in expected:
        assert parsed.due is not None
        assert parsed.due.astimezone(UTC) == expected["due"]
    elif "rule" not in expected:
        assert parsed.due is None

    # The spans are the parts: each non-title part exactly, and the title words, no more.
    spans = {(s.start, s.end, s.field) for s in parsed.spans if s.field is not Field.TITLE}
    assert spans == {place for place in places if place[2] is not Field.TITLE}
    title_text = " ".join(line[s.start : s.end] for s in parsed.spans if s.field is Field.TITLE)
    assert title_text.split() == title_words
    assert [s.start for s in parsed.spans] == sorted(s.start for s in parsed.spans)
    assert all(a.end <= b.start for a, b in zip(parsed.spans, parsed.spans[1:], strict=False))


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=120))
def test_any_text_reads_without_error_and_every_character_is_placed(text: str) -> None:
    """Nothing typed raises; spans stay inside the line, in order, and cover every non-space."""
    parsed = parse_quick_add(text, BERLIN, NOW)
    covered: set[int] = set()
    for span in parsed.spans:
        assert 0 <= span.start < span.end <= len(text)
        covered.update(range(span.start, span.end))
    assert all(i in covered for i, char in enumerate(text) if not char.isspace())
