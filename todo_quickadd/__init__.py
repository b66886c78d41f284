"""Quick add: one line of text ("Pay rent every month on the 1st at 9am #home !high") to a task.

Pure: no I/O and no clock reads ("now" is a parameter), so the same line, zone and now always
give the same task. Languages are tables (`language`); English (`english`) is registered on
import, and its recurrence phrases are `todo_recurrence`'s grammar.
"""

from __future__ import annotations

from . import english as _english  # registers English
from .language import DEFAULT_LANGUAGE, Language, language_of, languages, register
from .model import MAX_TEXT, Field, Priority, QuickAdd, QuickAddError, Span
from .parse import parse_quick_add

del _english

__all__ = [
    "DEFAULT_LANGUAGE",
    "MAX_TEXT",
    "Field",
    "Language",
    "Priority",
    "QuickAdd",
    "QuickAddError",
    "Span",
    "language_of",
    "languages",
    "parse_quick_add",
    "register",
]
