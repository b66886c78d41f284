"""The Strawberry schema: the API's roots and scalars (`api`), and the limits and masking every
operation runs under (`limits`, `errors`)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, ExecutionResult

from gateway.api.roots import Mutation, Query, Subscription
from gateway.api.scalars import SCALAR_MAP
from gateway.config import (
    DEFAULT_MAX_ALIASES,
    DEFAULT_MAX_COST,
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_TOKENS,
)
from gateway.errors import ErrorMasking, anonymised, is_unexpected
from gateway.execution import PlainFields, attach_plain_fields
from gateway.extension_hooks import CachedHooksRunner
from gateway.limits.cost import CostLimits
from gateway.limits.documents import document_limits
from gateway.limits.edge_checks import EdgeChecks
from gateway.operation_metrics import OperationMetrics
from todo_runtime import tracing

log = logging.getLogger(__name__)


class GatewaySchema(strawberry.Schema):
    """Logs only our own faults, with their traceback; client errors (bad input...) are not logged.

    Strawberry calls `process_errors` before ErrorMasking hides the details, so
    the log keeps what the client never sees. An exception raised by a schema
    extension's hook skips ErrorMasking, so `execute` masks once more. The extensions' hooks run
    through `extension_hooks`, wrapped once per class rather than per operation.

    """

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return CachedHooksRunner(execution_context=execution_context, extensions=extensions)

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
    """Factories (one fresh extension per operation) for the limits and error masking, in the
    order they run."""
    return [
        *_tracing(),
        OperationMetrics,
        *document_limits(max_depth=max_depth, max_tokens=max_tokens, max_aliases=max_aliases),
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
    """The gateway schema; the limits do not change its SDL. Its fields that only read an
    attribute run on a short path (`execution.PlainFields`)."""
    schema = GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=schema_extensions(
            max_depth=max_depth, max_tokens=max_tokens, max_aliases=max_aliases, max_cost=max_cost
        ),
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        execution_context_class=PlainFields,
    )
    attach_plain_fields(schema._schema, schema.config.default_resolver)
    return schema
