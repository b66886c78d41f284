"""GraphQL over HTTP (the GraphQL Foundation's draft): which media type answers, with which status.

`application/json` is the legacy media type: clients written before the
specification read every answer as 200, so every well-formed request gets 200
whatever its GraphQL errors. `application/graphql-response+json` lets a client
trust the status: a request that fails before execution (the document does not
parse or validate, the variables do not coerce) gets 400 and no `data`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from strawberry.types import ExecutionResult

from gateway.errors import INTERNAL

JSON: Final = "application/json"
GRAPHQL_RESPONSE_JSON: Final = "application/graphql-response+json"
# How specific a matching media range is: the most specific one decides (RFC 9110 §12.5.1).
_EXACT, _SUBTYPE_WILDCARD, _WILDCARD, _UNMATCHED = 2, 1, 0, -1


@dataclass(frozen=True, order=True)
class _Rank:
    """How much the client wants a media type: its q-value, then how specifically it named it."""

    quality: float
    specificity: int


_NOT_ACCEPTED: Final = _Rank(0.0, _UNMATCHED)


def response_media_type(accept: str | None) -> str:
    """The media type to answer in, given the request's `Accept` header.

    The higher q-value wins, then the more specific range. On a tie the client
    that names `application/graphql-response+json` gets it; wildcards alone
    (`*/*`) get `application/json`, as the specification asks. A header that
    accepts neither is disregarded for `application/json`, which the
    specification allows instead of 406 and which keeps older clients working.
    """
    ranges = _media_ranges(accept or "")
    json_rank = _rank(JSON, ranges)
    graphql_rank = _rank(GRAPHQL_RESPONSE_JSON, ranges)
    if graphql_rank.quality <= 0:
        return JSON
    named = graphql_rank.specificity == _EXACT
    if graphql_rank > json_rank or (graphql_rank == json_rank and named):
        return GRAPHQL_RESPONSE_JSON
    return JSON


def request_error_status(result: ExecutionResult) -> int | None:
    """The status of a request that failed before execution began; None once it began.

    Execution began when there is data, or an error with a path (a field error;
    `data` is then present, even null, and the answer is 200). 500 when the fault
    was ours (INTERNAL), 400 otherwise.
    """
    if result.data is not None or not result.errors:
        return None
    if any(error.path is not None for error in result.errors):
        return None
    codes = {(error.extensions or {}).get("code") for error in result.errors}
    return 500 if INTERNAL in codes else 400


def _media_ranges(accept: str) -> list[tuple[str, float]]:
    """(media range, q-value) for each entry of an Accept header; a malformed q-value counts as 0."""
    ranges = []
    for entry in accept.split(","):
        media_range, *parameters = (part.strip() for part in entry.split(";"))
        if not media_range:
            continue
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
                if not 0.0 <= quality <= 1.0:  # also NaN
                    quality = 0.0
        ranges.append((media_range.lower(), quality))
    return ranges


def _rank(media_type: str, ranges: list[tuple[str, float]]) -> _Rank:
    """The rank that the most specific range matching `media_type` gives it."""
    kind, _, _ = media_type.partition("/")
    specificity = {media_type: _EXACT, f"{kind}/*": _SUBTYPE_WILDCARD, "*/*": _WILDCARD}
    matches = [_Rank(quality, specificity[name]) for name, quality in ranges if name in specificity]
    return max(matches, key=lambda rank: rank.specificity, default=_NOT_ACCEPTED)
