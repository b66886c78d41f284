"""The Strawberry schema: roots, scalars, and the limits and masking every operation runs under."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    SchemaExtension,
)
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, ExecutionResult

from gateway.config import (
    DEFAULT_MAX_ALIASES,
    DEFAULT_MAX_COST,
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_TOKENS,
)
from gateway.cost_limits import CostLimits
from gateway.document_cache import SmallDocumentParserCache, SmallDocumentValidationCache
from gateway.edge_checks import EdgeChecks, StorableStringLiterals
from gateway.errors import ErrorMasking, anonymised, is_unexpected
from gateway.mutations import Mutation
from gateway.operation_metrics import OperationMetrics
from gateway.queries import Query
from gateway.subscriptions import Subscription
from gateway.types.scalars import SCALAR_MAP
from todo_runtime import tracing

log = logging.getLogger(__name__)

# Distinct documents whose parse and validation results are kept. Clients send the same few
# documents again and again; a client sending new ones only evicts older entries.
DOCUMENT_CACHE_SIZE = 512


class GatewaySchema(strawberry.Schema):
    """Logs only our own faults, with their traceback; client errors (bad input...) are not logged.

    Strawberry calls `process_errors` before ErrorMasking hides the details, so
    the log keeps what the client never sees. An exception raised by a schema
    extension's hook skips ErrorMasking, so `execute` masks once more.
    """

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        result = await super().execute(*args, **kwargs)
        if result.errors:
            result.errors = [anonymised(error) for error in result.errors]
        return result

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if is_unexpected(error):
                log.error("unexpected error at %s", error.path, exc_info=error.original_error)


def schema_extensions(
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    max_aliases: int = DEFAULT_MAX_ALIASES,
    max_cost: int = DEFAULT_MAX_COST,
) -> list[Callable[[], SchemaExtension]]:
    """Factories (one fresh extension per operation) for the document limits and error masking.

    Validation is most of what a small operation costs, so a document's parse and
    validation are cached by its text (Strawberry's caches). The validation cache
    is keyed by the rule classes as well: the depth and alias rules are built here,
    once, rather than by the limiter extensions, which build new classes for every
    operation and so would never let it hit.
    """
    rules = [max_depth_rule(max_depth, None), max_aliases_rule(max_aliases), StorableStringLiterals]
    return [
        *_tracing(),
        OperationMetrics,
        functools.partial(MaxTokensLimiter, max_token_count=max_tokens),
        functools.partial(AddValidationRules, rules),
        functools.partial(SmallDocumentParserCache, maxsize=DOCUMENT_CACHE_SIZE),
        functools.partial(SmallDocumentValidationCache, maxsize=DOCUMENT_CACHE_SIZE),
        EdgeChecks,
        functools.partial(CostLimits, max_cost=max_cost),
        ErrorMasking,
    ]


def _tracing() -> list[Callable[[], SchemaExtension]]:
    """Strawberry's own OpenTelemetry extension (first, so its span encloses the others' work),
    while tracing is on (`todo_runtime.tracing`)."""
    provider = tracing.provider()
    if provider is None:
        return []
    from strawberry.extensions.tracing import OpenTelemetryExtension  # noqa: PLC0415 - only when on

    return [functools.partial(OpenTelemetryExtension, tracer_provider=provider)]


def build_schema(
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    max_aliases: int = DEFAULT_MAX_ALIASES,
    max_cost: int = DEFAULT_MAX_COST,
) -> strawberry.Schema:
    """The gateway schema; the limits do not change its SDL."""
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=schema_extensions(
            max_depth=max_depth, max_tokens=max_tokens, max_aliases=max_aliases, max_cost=max_cost
        ),
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )
