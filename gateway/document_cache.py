"""Parse and validation results kept for small documents only.

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

from collections.abc import Iterator
from typing import Any, Final

from graphql.language.parser import parse
from strawberry.extensions import ParserCache, ValidationCache

from gateway.persisted_queries import DEFAULT_MAX_DOCUMENT_BYTES

MAX_CACHED_CHARACTERS: Final = DEFAULT_MAX_DOCUMENT_BYTES


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
            return
        from strawberry.schema.schema import validate_document  # noqa: PLC0415 - as strawberry does

        context = self.execution_context
        if context.graphql_document is not None:
            context.pre_execution_errors = validate_document(
                context.schema._schema, context.graphql_document, context.validation_rules
            )
        yield
