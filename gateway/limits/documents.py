"""Bounds on one GraphQL document (tokens, depth, aliases, storable strings), checked with its
parse and validation cached by its text, for small documents only.

Validation is most of what a small operation costs, so a document's parse and validation are
cached (Strawberry's caches). The validation cache is keyed by the rule classes as well: the
depth and alias rules are built here, once, rather than by Strawberry's limiter extensions, which
build new classes for every operation and so would never let it hit.

Strawberry's caches key on the document's text and keep it, with its parsed
tree, for as long as the entry lives: a client sending distinct near-1 MiB
documents would have each gateway hold about 2 MiB per entry (the text, and a
comment's copy in the tree), a gigabyte at 512 entries. Clients send the same
small documents again and again, and those are what the caches are for; a
large one is parsed and validated every time, as persisted queries keep only
documents up to the same size (`persisted_queries.DEFAULT_MAX_DOCUMENT_BYTES`), and
parsed without locations, so that what runs keeps none of its text.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final

from graphql import GraphQLError
from graphql.language.parser import parse
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule

from gateway.limits.edge_checks import StorableStringLiterals
from gateway.limits.persisted_queries import DEFAULT_MAX_DOCUMENT_BYTES

# Distinct documents whose parse and validation results are kept. Clients send the same few
# documents again and again; a client sending new ones only evicts older entries.
DOCUMENT_CACHE_SIZE: Final = 512
MAX_CACHED_CHARACTERS: Final = DEFAULT_MAX_DOCUMENT_BYTES


def document_limits(
    *, max_depth: int, max_tokens: int, max_aliases: int
) -> list[Callable[[], SchemaExtension]]:
    """Factories (one fresh extension per operation) for the bounds and the caches, in the
    order they run."""
    rules = [max_depth_rule(max_depth, None), max_aliases_rule(max_aliases), StorableStringLiterals]
    return [
        functools.partial(MaxTokensLimiter, max_token_count=max_tokens),
        functools.partial(AddValidationRules, rules),
        functools.partial(SmallDocumentParserCache, maxsize=DOCUMENT_CACHE_SIZE),
        functools.partial(SmallDocumentValidationCache, maxsize=DOCUMENT_CACHE_SIZE),
    ]


def _cacheable(query: str | None) -> bool:
    return query is not None and len(query) <= MAX_CACHED_CHARACTERS


class SmallDocumentParserCache(ParserCache):
    """Strawberry's parser cache, for documents up to MAX_CACHED_CHARACTERS."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if _cacheable(context.query):
            yield from super().on_parse()
            return
        # Without locations the tree keeps no token, no comment and not the source: a running
        # subscription holds only its operation (its errors give no line and column).
        options: dict[str, Any] = {**context.parse_options, "no_location": True}
        context.graphql_document = parse(context.query or "", **options)
        yield


class SmallDocumentValidationCache(ValidationCache):
    """Strawberry's validation cache, for documents up to MAX_CACHED_CHARACTERS (its key is the
    parsed document, which would keep a large one alive)."""

    def on_validate(self) -> Iterator[None]:
        if _cacheable(self.execution_context.query):
            yield from super().on_validate()
            _forget_where_raised(self.execution_context.pre_execution_errors or ())
            return
        from strawberry.schema.schema import validate_document  # noqa: PLC0415 - as strawberry does

        context = self.execution_context
        if context.graphql_document is not None:
            context.pre_execution_errors = validate_document(
                context.schema._schema, context.graphql_document, context.validation_rules
            )
        yield


def _forget_where_raised(errors: Iterable[GraphQLError]) -> None:
    """Drops the tracebacks of cached validation errors (a literal a scalar refused): their
    frames reach up to this operation's extensions, and so would keep its whole request, context
    and user included, alive for as long as the entry stays in the cache."""
    for error in errors:
        cause: BaseException | None = error
        while cause is not None:
            cause.__traceback__ = None
            cause = cause.__cause__ or cause.__context__ or getattr(cause, "original_error", None)
