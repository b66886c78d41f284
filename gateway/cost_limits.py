"""Cost limits per operation and per user, reported in every answer's `extensions.cost`.

An operation whose cost (`query_cost`) is over the limit is refused before it
runs, saying its cost and the limit. Otherwise its cost is charged to the
user's leaky bucket (`rate_limit`), and an operation the bucket cannot take
is refused with RATE_LIMITED and the seconds to wait. Answers carry the cost
and the bucket's state in Shopify's shape, so clients can pace themselves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Final

from graphql import FragmentDefinitionNode, GraphQLError, get_operation_ast
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from gateway.context import GatewayContext
from gateway.errors import BAD_USER_INPUT
from gateway.query_cost import operation_cost
from gateway.rate_limit import Decision

RATE_LIMITED: Final = "RATE_LIMITED"


class CostLimits(SchemaExtension):
    """One per operation; `max_cost` is the most a single operation may cost."""

    def __init__(self, *, max_cost: int) -> None:
        super().__init__()
        self._max_cost = max_cost
        self._cost: int | None = None
        self._decision: Decision | None = None
        self._limits: tuple[float, float] | None = None

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        operation = get_operation_ast(document, context.operation_name) if document else None
        if document is None or operation is None:
            yield
            return
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        cost = operation_cost(context.schema._schema, operation, fragments, context.variables or {})
        self._cost = cost
        if cost > self._max_cost:
            message = f"This operation costs {cost}, more than the limit of {self._max_cost}."
            extensions = {"code": BAD_USER_INPUT, "cost": cost, "maxCost": self._max_cost}
            context.result = ExecutionResult(
                data=None, errors=[GraphQLError(message, extensions=extensions)]
            )
            yield
            return
        gateway = context.context
        limiter = gateway.services.rate_limiter if isinstance(gateway, GatewayContext) else None
        if limiter is not None and isinstance(gateway, GatewayContext) and gateway.user_id:
            self._limits = (limiter.capacity, limiter.restore)
            self._decision = await limiter.take(gateway.user_id, cost)
            if not self._decision.allowed:
                wait = round(self._decision.retry_after, 1)
                context.result = ExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(
                            f"Rate limited: retry in {wait} s (this operation costs {cost}).",
                            extensions={"code": RATE_LIMITED, "retryAfter": wait},
                        )
                    ],
                )
        yield

    def get_results(self) -> dict[str, Any]:
        if not self._cost:  # free operations (introspection, __typename) have nothing to report
            return {}
        cost: dict[str, Any] = {"requestedQueryCost": self._cost, "maximumCost": self._max_cost}
        if self._decision is not None and self._limits is not None:
            capacity, restore = self._limits
            cost["throttleStatus"] = {
                "maximumAvailable": capacity,
                "currentlyAvailable": round(self._decision.remaining, 1),
                "restoreRate": restore,
            }
        return {"cost": cost}
