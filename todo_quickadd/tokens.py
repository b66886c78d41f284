"""A quick-add line split into tokens that remember where they came from.

The shapes are the same in every language: words (letters and digits, "9am", "p1"), clock
times ("17:30"), ISO dates, `#tags`, `!words` and single punctuation marks.
"""

from __future__ import annotations

import re

# The recurrence grammar's token: text lower-cased, its kind (here a group name of `_TOKEN`) and
# its place in the line; the recurrence phrases a line holds are read by that grammar.
from todo_recurrence.lexicon import Token

_TOKEN = re.compile(
    r"""
    (?P<tag>\#[^\W\d_][\w-]*)
  | (?P<bang>![^\W_]\w*)
  | (?P<iso>\d{4}-\d{1,2}-\d{1,2}(?![\w-]))
  | (?P<clock>\d{1,2}:\d{2}(?![\d:]))
  | (?P<word>\w+(?:['\u2019]\w+)?)
  | (?P<punct>\S)
    """,
    re.VERBOSE,
)


__all__ = ["Token", "tokenize"]


def tokenize(line: str) -> list[Token]:
    """Every token of `line`, in order; whitespace separates and is never a token."""
    return [
        Token(match.group().lower(), match.lastgroup or "punct", match.start(), match.end())
        for match in _TOKEN.finditer(line)
    ]
