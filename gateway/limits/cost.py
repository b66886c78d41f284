"""Cost limits per operation and rate limits per user, reported in every answer's
`extensions.cost`.

An operation is checked before it runs: first its list arguments against
their maxima (`list_maxima`), then its cost (`query_cost`): over the limit,
it is refused saying its cost and the limit. Otherwise its cost is charged to
the user's leaky bucket (`gateway.rate_buckets`: in memory, settled with the
other replicas'; callers without a token, who may only ask for public fields,
share one), and an operation the bucket cannot take
is refused with RATE_LIMITED and the seconds to wait. As Shopify's API does,
the cost charged up front is the most the operation can cost
(`requestedQueryCost`); what a field's work did not use (a verification of
fewer entries than it may check, `refunds`) is given back once it ran, and the answer
says what the operation came to (`actualQueryCost`) and the bucket's state.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any, Final

from graphql import FragmentDefinitionNode, GraphQLError, get_operation_ast
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from gateway.context import GatewayContext
from gateway.errors import BAD_USER_INPUT
from gateway.limits.list_maxima import oversized_list
from gateway.limits.query_cost import operation_cost
from gateway.limits.refunds import ledger
from gateway.rate_buckets import Decision

RATE_LIMITED: Final = "RATE_LIMITED"
# The bucket of every caller without a token: parentheses are in no user id.
ANONYMOUS_BUCKET: Final = "(anonymous)"


def shown_wait(seconds: float) -> float:
    """A wait as a client is told it: rounded up to a tenth of a second and at least one
    tenth, so a client that waits what it is told never comes back too early (a wait rounded
    down to 0.0 s is an invitation to retry at once and be refused again)."""
    tenths = max(1, math.ceil(seconds * 10))
    if tenths / 10 < seconds:  # `seconds * 10` was rounded down onto a whole number
        tenths += 1
    return tenths / 10


class CostLimits(SchemaExtension):
    """One per operation; `max_cost` is the most a single operation may cost."""

    def __init__(self, *, max_cost: int) -> None:
        super().__init__()
        self._max_cost = max_cost
        self._cost: int | None = None
        self._actual: int | None = None
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
        schema, variables = context.schema._schema, context.variables or {}
        oversized = oversized_list(schema, operation, fragments, variables)
        if oversized is not None:
            context.result = ExecutionResult(data=None, errors=[oversized])
            yield
            return
        cost = operation_cost(schema, operation, fragments, variables)
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
        user = gateway.user_id if isinstance(gateway, GatewayContext) else None
        # Callers with no token run only public fields (`transport.challenge`); they share a bucket.
        bucket = user or ANONYMOUS_BUCKET
        if limiter is not None and (user or cost):
            self._limits = (limiter.capacity, limiter.restore)
            self._decision = limiter.take(bucket, cost)
            if not self._decision.allowed:
                wait = shown_wait(self._decision.retry_after)
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
                return
        with ledger() as unused:
            yield
        given_back = min(cost, sum(unused))
        self._actual = cost - given_back
        if given_back and limiter is not None and self._decision is not None:
            self._decision = Decision(True, limiter.refund(bucket, given_back), 0.0)

    def get_results(self) -> dict[str, Any]:
        if not self._cost:  # free operations (introspection, __typename) have nothing to report
            return {}
        cost: dict[str, Any] = {
            "requestedQueryCost": self._cost,
            "actualQueryCost": self._actual,
            "maximumCost": self._max_cost,
        }
        if self._decision is not None and self._limits is not None:
            capacity, restore = self._limits
            cost["throttleStatus"] = {
                "maximumAvailable": capacity,
                "currentlyAvailable": round(self._decision.remaining, 1),
                "restoreRate": restore,
            }
        return {"cost": cost}
