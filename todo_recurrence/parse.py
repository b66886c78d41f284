"""Entry point for user-written recurrences: natural language or RRULE text."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from .describe import describe
from .model import Basis, Recurrence, RecurrenceError
from .phrases import parse_phrase
from .rules import emit_rule, looks_like_rrule, parse_rrule

# RRULE has no standard way to say "measured from completion", and a private
# X- part would leak into every consumer; a plain-text suffix keeps the stored
# rule pure RFC 5545 while letting RRULE users pick the basis.
_COMPLETION_SUFFIX = re.compile(r"\s+after\s+completion\s*$", re.IGNORECASE)
# The one limit on user-written rules, phrases and RRULEs alike (after trimming):
# ample for any real rule, and it bounds the parser's and the describer's work.
MAX_RULE_TEXT = 500
_SHOWN_PREFIX = 40  # how much of an over-long text an error message repeats


def parse_recurrence(text: str, zone: ZoneInfo) -> Recurrence:
    """Validate `text` and return its canonical rule, English description and basis.

    Accepts phrases ("every 2 weeks on monday at 9am", "every 3 days after
    completion") or RRULE values, with or without "RRULE:", in any case. An
    RRULE followed by " after completion" is completion-based. `zone` is the
    task's zone: "until 2027-03-01" means the end of that local day. Empty
    text and text over `MAX_RULE_TEXT` characters are rejected.
    """
    body = text.strip()
    if not body:
        raise RecurrenceError(text, "it is empty")
    if len(body) > MAX_RULE_TEXT:
        raise RecurrenceError(
            body[:_SHOWN_PREFIX] + "...", f"it is longer than {MAX_RULE_TEXT} characters"
        )
    if looks_like_rrule(body):
        basis = Basis.SCHEDULE
        suffix = _COMPLETION_SUFFIX.search(body)
        if suffix is not None:
            basis, body = Basis.COMPLETION, body[: suffix.start()]
        parts = parse_rrule(body, zone, text)
    else:
        parts, basis = parse_phrase(body, zone, text)
    return Recurrence(rule=emit_rule(parts), text=describe(parts, basis, zone), basis=basis)
