"""A language's vocabulary for quick add, and the registry of languages.

The reader (`reader`, `when`) knows only token shapes (words, numbers, `#tag`, `!word`) and
asks a `Language` what a word means, so adding a language is one new table module registered
here: no reader code changes. A language without a recurrence grammar of its own sets
`recurrence=None` and its lines simply have no recurrence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo

from todo_recurrence import Recurrence

from .model import Priority, QuickAddError

# Duration units a language's words map to.
MINUTE, HOUR, DAY, WEEK, MONTH, YEAR = "minute", "hour", "day", "week", "month", "year"


@dataclass(frozen=True)
class Language:
    """Every word quick add understands in one language (all keys lower-case).

    Parameters:
        code: the BCP 47 primary tag ("en") clients pass to pick it.
        relative_days: words naming a day by its distance from today ("tomorrow": 1).
        weekdays / months: day names (0 = Monday) and month names (1 = January), with
            abbreviations.
        numbers: number words ("a", "three"); digits are always numbers.
        units: duration words ("mins", "day") to MINUTE..YEAR.
        compact_units: unit suffixes glued to a number ("30m", "2h").
        next_words / this_words: "next friday" (the first after today) and "this friday"
            (today included).
        in_words: "in 3 days".
        needs_prefix: day words that are also ordinary words ("sun"): a day only after a
            date prefix or a next/this word.
        date_prefixes / time_prefixes: words before a date ("on", "by") or time ("at"),
            taken with it.
        ordinal_suffixes / meridiems: "12th"; "9am" (the value: whether it is pm).
        named_times: "noon", "midnight".
        priorities: whole tokens ("!high", "p1") to a priority.
        remind_words / remind_fillers / before_words: "remind [me] 30 min before".
        recurrence_starts: words that begin a recurrence phrase ("every").
        recurrence_adverbs: words that are one ("daily", "weekly") unless the line has a
            start word too ("Weekly review every friday": the title keeps "Weekly").
        recurrence_trailing: words a recurrence phrase never ends with ("and", "on"): they
            stay in the title.
        recurrence: the language's recurrence grammar: a phrase to its rule (raises
            `todo_recurrence.RecurrenceError`), or None.
        default_time: the due time of a date given without a time.
    """

    code: str
    relative_days: Mapping[str, int]
    weekdays: Mapping[str, int]
    months: Mapping[str, int]
    numbers: Mapping[str, int]
    units: Mapping[str, str]
    compact_units: Mapping[str, str]
    next_words: frozenset[str]
    this_words: frozenset[str]
    in_words: frozenset[str]
    needs_prefix: frozenset[str]
    date_prefixes: frozenset[str]
    time_prefixes: frozenset[str]
    ordinal_suffixes: frozenset[str]
    meridiems: Mapping[str, bool]
    named_times: Mapping[str, time]
    priorities: Mapping[str, Priority]
    remind_words: frozenset[str]
    remind_fillers: frozenset[str]
    before_words: frozenset[str]
    recurrence_starts: frozenset[str]
    recurrence_adverbs: frozenset[str]
    recurrence_trailing: frozenset[str]
    recurrence: Callable[[str, ZoneInfo], Recurrence] | None
    default_time: time = time(9, 0)


_LANGUAGES: dict[str, Language] = {}
DEFAULT_LANGUAGE = "en"


def register(language: Language) -> None:
    """Makes `language` available under its code (a language module calls it on import)."""
    _LANGUAGES[language.code] = language


def language_of(code: str) -> Language:
    """The language registered as `code` ("" = English); QuickAddError for any other."""
    found = _LANGUAGES.get(code.lower() or DEFAULT_LANGUAGE)
    if found is None:
        raise QuickAddError("language", f"must be one of {sorted(_LANGUAGES)}, got {code!r}")
    return found


def languages() -> list[str]:
    """The codes of every registered language."""
    return sorted(_LANGUAGES)
