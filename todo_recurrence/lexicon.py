"""Words and tokens of the recurrence phrase language.

Kept apart from the grammar so the vocabulary (abbreviations, plurals,
number words) can grow without touching how clauses combine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .model import WEEKDAYS, WEEKEND, Freq

_TOKEN = re.compile(
    r"""
    (?P<iso>\d{4}-\d{1,2}-\d{1,2})
  | (?P<clock>\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?(?![a-z]))?)
  | (?P<ampm>\d{1,2}\s*[ap]\.?m\.?(?![a-z]))
  | (?P<ordnum>\d{1,3}(?:st|nd|rd|th)(?![a-z]))
  | (?P<times>x\d{1,4}(?![a-z0-9])|\d{1,4}x(?![a-z0-9]))
  | (?P<num>\d+)
  | (?P<word>[a-z]+(?:'[a-z]+)?)
  | (?P<punct>\S)
    """,
    re.VERBOSE | re.IGNORECASE,
)


@dataclass(frozen=True)
class Token:
    """A lower-cased token with its span in the original text (for error messages)."""

    text: str
    kind: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """Split a phrase into tokens; unknown characters become their own tokens."""
    # Same-length rewrites keep spans pointing into the caller's text.
    text = text.replace("\u2019", "'")
    text = re.sub(r"\bbi-weekly\b", "biweekly ", text, flags=re.IGNORECASE)
    text = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", text, flags=re.IGNORECASE)
    tokens: list[Token] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "punct"
        value = match.group().lower()
        if kind in ("clock", "ampm"):
            value = re.sub(r"[\s.]+", "", value)
        tokens.append(Token(value, kind, match.start(), match.end()))
    return tokens


FILLERS = frozenset({
    "and", ",", "&", "the", "on", "of", "in", "every", "each", "repeat", "repeats",
    "repeating", "recurring", "a", ".", ";", "-",
})  # fmt: skip
WEEKDAY_WORDS: dict[str, tuple[int, ...]] = {}
for _index, _names in enumerate((
    ("monday", "mon"), ("tuesday", "tue", "tues"), ("wednesday", "wed", "weds"),
    ("thursday", "thu", "thur", "thurs"), ("friday", "fri"), ("saturday", "sat"),
    ("sunday", "sun"),
)):  # fmt: skip
    for _name in _names:
        WEEKDAY_WORDS[_name] = (_index,)
        WEEKDAY_WORDS[_name + "s"] = (_index,)
WEEKDAY_WORDS.update(
    {"weekday": WEEKDAYS, "weekdays": WEEKDAYS, "weekend": WEEKEND, "weekends": WEEKEND}
)

MONTH_WORDS: dict[str, int] = {}
for _index, _names in enumerate((
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
    ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
    ("october", "oct"), ("november", "nov"), ("december", "dec"),
), start=1):  # fmt: skip
    for _name in _names:
        MONTH_WORDS[_name] = _index

ORDINAL_WORDS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "last": -1,
    "penultimate": -2,
}
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "other": 2,
}  # fmt: skip
UNIT_WORDS = {
    "minute": Freq.MINUTELY, "min": Freq.MINUTELY, "hour": Freq.HOURLY, "hr": Freq.HOURLY,
    "day": Freq.DAILY, "week": Freq.WEEKLY, "wk": Freq.WEEKLY, "month": Freq.MONTHLY,
    "year": Freq.YEARLY, "yr": Freq.YEARLY,
}  # fmt: skip
ADVERBS = {
    "daily": (Freq.DAILY, 1), "weekly": (Freq.WEEKLY, 1), "monthly": (Freq.MONTHLY, 1),
    "yearly": (Freq.YEARLY, 1), "annually": (Freq.YEARLY, 1), "annual": (Freq.YEARLY, 1),
    "hourly": (Freq.HOURLY, 1), "biweekly": (Freq.WEEKLY, 2), "fortnightly": (Freq.WEEKLY, 2),
    "fortnight": (Freq.WEEKLY, 2), "quarterly": (Freq.MONTHLY, 3),
}  # fmt: skip
COMPLETION_WORDS = frozenset({
    "completion", "completing", "complete", "completed", "done", "finish", "finishing",
    "finished",
})  # fmt: skip
COMPLETION_FILLERS = frozenset({"it", "it's", "i", "is", "was", "has", "been", "you", "its"})
UNTIL_WORDS = frozenset({"until", "till", "til", "through", "thru"})
COUNT_WORDS = frozenset({"time", "times", "occurrence", "occurrences"})


def unit_of(word: str) -> Freq | None:
    """Frequency named by a unit word, singular or plural ("days", "hrs")."""
    if word in UNIT_WORDS:
        return UNIT_WORDS[word]
    if word.endswith("s") and word[:-1] in UNIT_WORDS:
        return UNIT_WORDS[word[:-1]]
    return None


def number_of(token: Token) -> int | None:
    """Value of a cardinal ("3", "three", "other"), else None."""
    if token.kind == "num":
        return int(token.text)
    return NUMBER_WORDS.get(token.text)


def ordinal_number(token: Token) -> int | None:
    """Value of a numeric ordinal like "2nd" or "15th", else None."""
    return int(token.text[:-2]) if token.kind == "ordnum" else None


_CLOCK = re.compile(r"^(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?(am|pm)?$")


def clock_of(token: Token, *, bare_hour: bool) -> tuple[int, int, int] | None:
    """(hour, minute, second) of "9am", "9:30pm", "17:30", "noon"; a bare "9" only if allowed.

    Returns None when the token is not a time at all; raises ValueError when it
    looks like one but is out of range (so the caller can say so).
    """
    if token.text == "noon":
        return (12, 0, 0)
    if token.text == "midnight":
        return (0, 0, 0)
    if token.kind not in ("clock", "ampm") and not (bare_hour and token.kind == "num"):
        return None
    match = _CLOCK.match(token.text)
    if match is None:
        return None
    hour, minute, second = (int(match.group(i) or 0) for i in (1, 2, 3))
    suffix = match.group(4)
    if suffix and not 1 <= hour <= 12:
        raise ValueError("with am/pm the hour must be 1 to 12")
    if suffix:
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError("a time of day must be between 00:00 and 23:59")
    return (hour, minute, second)
