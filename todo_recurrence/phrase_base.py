"""Shared state and token helpers of the phrase reader.

Split from the clause code so each file stays small: this part knows how to
look at tokens and how to report a problem, not what the words mean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from .lexicon import Token, ordinal_number, tokenize
from .model import Basis, ByDay, Freq, RecurrenceError


@dataclass
class PhraseState:
    """Everything the clauses found; turned into RuleParts once reading is done."""

    freq: Freq | None = None
    interval: int = 1
    months: set[int] = field(default_factory=set)
    monthdays: set[int] = field(default_factory=set)
    dates: set[tuple[int, int]] = field(default_factory=set)
    days: set[ByDay] = field(default_factory=set)
    setpos: set[int] = field(default_factory=set)
    times: set[tuple[int, int, int]] = field(default_factory=set)
    minutes: set[int] = field(default_factory=set)
    count: int | None = None
    until: datetime | None = None
    basis: Basis = Basis.SCHEDULE
    spans: dict[str, str] = field(default_factory=dict)  # RRULE part -> words that set it


class ReaderBase:
    """Token access and error reporting for the clause readers."""

    def __init__(self, text: str, zone: tzinfo, shown: str) -> None:
        self.text = text
        self.shown = shown
        self.zone = zone
        self.tokens = tokenize(text)
        self.state = PhraseState()

    def tok(self, i: int) -> Token | None:
        """Token at `i`, or None past either end."""
        return self.tokens[i] if 0 <= i < len(self.tokens) else None

    def word(self, i: int) -> str:
        """Lower-cased token text at `i` ("" past either end), for cheap comparisons."""
        token = self.tok(i)
        return token.text if token is not None else ""

    def span(self, i: int, j: int) -> str:
        """The caller's own words for tokens i..j-1, quoted back in errors."""
        j = min(max(j, i + 1), len(self.tokens))
        return self.text[self.tokens[i].start : self.tokens[j - 1].end]

    def fail(self, reason: str | None, i: int, j: int) -> RecurrenceError:
        """An error quoting the whole input and the words at i..j-1."""
        near = self.span(i, j) if i < len(self.tokens) else None
        return RecurrenceError(self.shown, reason, near)

    def daynum(self, i: int) -> int | None:
        """A day number written "15" or "15th" (at most two digits), else None."""
        token = self.tok(i)
        if token is None:
            return None
        if token.kind == "ordnum":
            return ordinal_number(token)
        if token.kind == "num" and len(token.text) <= 2:
            return int(token.text)
        return None
