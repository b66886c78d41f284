"""`parse_quick_add`: one line to a task's fields, given the zone and "now" (never read here)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from todo_recurrence import Basis, Recurrence, RecurrenceError, parse_recurrence, plan_series
from todo_recurrence.series import require_aware

from .language import DEFAULT_LANGUAGE, language_of
from .model import MAX_TEXT, Field, QuickAdd, QuickAddError, Span
from .reader import Found, LineReader
from .when import wall

_SPACES = re.compile(r"\s+")
_TITLE_EDGES = " \t,;:-\u2013\u2014"  # separators left at a title's ends once fields are taken
_COMPLETION = " after completion"  # how an RRULE says "measured from completion" (todo_recurrence)


def parse_quick_add(
    line: str, zone: ZoneInfo, now: datetime, *, language: str = DEFAULT_LANGUAGE
) -> QuickAdd:
    """The task `line` describes, read in `zone` at `now` (aware), in `language` ("en").

    Unknown words stay in the title. Raises QuickAddError for a line over MAX_TEXT characters
    or an unknown language, and todo_recurrence's RecurrenceTooExpensive when the recurrence's
    first due needs more work than the call's budget.
    """
    require_aware(now, "now")
    if len(line) > MAX_TEXT:
        raise QuickAddError("text", f"must be at most {MAX_TEXT} characters, got {len(line)}")
    lang = language_of(language)
    reader = LineReader(line, zone, now, lang)
    found = reader.read()
    local_now = now.astimezone(zone)
    due = _due(found, zone, local_now, lang.default_time)
    rule: str | None = None
    pinned: Recurrence | None = None
    if found.phrase is not None:
        rule, pinned, due = _series(found.phrase, found, zone, local_now, due)
    reminders = tuple(
        wall(
            r.day or (due.date() if due is not None else _next_day(r.clock, zone, local_now)),
            r.clock or lang.default_time,
            zone,
        )
        for r in found.remind_at
    )
    title_spans = _title_spans(found, reader)
    title = " ".join(line[s.start : s.end] for s in title_spans)
    return QuickAdd(
        title=_SPACES.sub(" ", title).strip(_TITLE_EDGES),
        due=due,
        recurrence_rule=rule,
        recurrence=pinned,
        tags=tuple(found.tags),
        priority=found.priority,
        remind_minutes_before=tuple(found.minutes_before),
        remind_at=reminders,
        spans=_joined(line, sorted([*found.spans, *title_spans], key=lambda s: s.start)),
    )


def _next_day(clock: time | None, zone: ZoneInfo, now: datetime) -> date:
    """The day a time without a date falls on: today while it is still ahead, else tomorrow."""
    today = now.date()
    if clock is not None and wall(today, clock, zone) > now:
        return today
    return today + timedelta(days=1)


def _due(found: Found, zone: ZoneInfo, now: datetime, default: time) -> datetime | None:
    when = found.when
    if when is not None and when.instant is not None:
        return when.instant
    if when is not None and when.day is not None:
        return wall(when.day, found.clock or default, zone)
    if found.clock is not None:
        return wall(_next_day(found.clock, zone, now), found.clock, zone)
    return None


def _series(
    phrase: Recurrence, found: Found, zone: ZoneInfo, now: datetime, due: datetime | None
) -> tuple[str, Recurrence, datetime | None]:
    """The rule to create, pinned to its first due, and that due.

    A time given apart from the phrase ("every monday standup 9am") joins the rule when the
    phrase has none; any other due given starts the series, as createTask's dueAt does.
    """
    rule = phrase.rule
    if found.clock is not None and found.when is None and "BYHOUR=" not in rule:
        clock = found.clock
        timed = f"{rule};BYHOUR={clock.hour};BYMINUTE={clock.minute};BYSECOND=0"
        try:
            rule = parse_recurrence(timed, zone).rule
            due = None
        except RecurrenceError:
            pass  # e.g. an hourly rule: the time stays the first due
    text = rule + (_COMPLETION if phrase.basis is Basis.COMPLETION else "")
    plan = plan_series(text, zone, now, due=due)
    first = plan.first_due.astimezone(zone) if plan.first_due is not None else None
    return text, plan.recurrence, first


def _title_spans(found: Found, reader: LineReader) -> list[Span]:
    """Runs of consecutive title tokens, one span each."""
    runs: list[list[int]] = []
    for index in found.title:
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    tokens = reader.tokens
    return [Span(tokens[run[0]].start, tokens[run[-1]].end, Field.TITLE) for run in runs]


def _joined(line: str, spans: list[Span]) -> tuple[Span, ...]:
    """Spans in order, a date and its time ("tomorrow 5pm", "5pm tomorrow") as one due span."""
    joined: list[Span] = []
    for span in spans:
        last = joined[-1] if joined else None
        if (
            last is not None
            and last.field is span.field is Field.DUE
            and not line[last.end : span.start].strip()
        ):
            joined[-1] = Span(last.start, span.end, Field.DUE)
        else:
            joined.append(span)
    return tuple(joined)
