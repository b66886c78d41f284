"""Proto enum numbers for Python enums, matched by name from the generated descriptors: one rule
instead of a hand-written table per enum and per layer (written by hand, a value added to a
contract is silently missing from some table).

A proto enum's values are `<PREFIX>_<NAME>` (buf's STANDARD lint) with `<PREFIX>_UNSPECIFIED` at 0;
the Python enum's member `NAME` maps to `<PREFIX>_<NAME>`. Pure: the standard library and
protobuf's generated types only, so domain modules may use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

E = TypeVar("E", bound=Enum)

_UNSPECIFIED = "UNSPECIFIED"


class EnumMismatch(ValueError):
    """The Python enum and the proto enum do not name the same values."""


def to_numbers(members: type[E], proto: EnumTypeWrapper) -> Mapping[E, int]:
    """Each member of `members` → the number of the proto value of the same name (every value
    but UNSPECIFIED must have a member, and every member a value)."""
    numbers = _numbers_by_name(proto)
    missing = {member.name for member in members} ^ set(numbers)
    if missing:
        raise EnumMismatch(
            f"{members.__name__} and {proto.DESCRIPTOR.full_name} differ in {sorted(missing)}"
        )
    return {member: numbers[member.name] for member in members}


def from_numbers(members: type[E], proto: EnumTypeWrapper) -> Mapping[int, E]:
    """The reverse of `to_numbers`: proto number → member (UNSPECIFIED has none)."""
    return {number: member for member, number in to_numbers(members, proto).items()}


def _numbers_by_name(proto: EnumTypeWrapper) -> dict[str, int]:
    values = proto.DESCRIPTOR.values
    unspecified = [value for value in values if value.number == 0]
    if len(unspecified) != 1 or not unspecified[0].name.endswith(_UNSPECIFIED):
        raise EnumMismatch(f"{proto.DESCRIPTOR.full_name} has no <PREFIX>_UNSPECIFIED = 0")
    prefix = unspecified[0].name.removesuffix(_UNSPECIFIED)
    return {value.name.removeprefix(prefix): value.number for value in values if value.number}
