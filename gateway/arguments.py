"""Arguments and input fields as resolvers receive them: omitted and null mean the same thing."""

from __future__ import annotations

from typing import TypeGuard, TypeVar

import strawberry

_T = TypeVar("_T")


def given(value: _T | None) -> TypeGuard[_T]:
    """Whether an argument or input field was sent with a value (not omitted, not null)."""
    return value is not None and value is not strawberry.UNSET
