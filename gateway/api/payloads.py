"""What every mutation shares (the Relay mutation convention): one `input` with an optional
`clientMutationId`, and a nullable `<Name>Payload` with the changed object(s), `userErrors` and
that `clientMutationId` echoed.

A payload answers at most 20 user errors (as many as a service names,
`todo_runtime.error_details`), which is why they are free in a query's cost. `answered` runs a
mutation and answers a refusal of its input (`errors.GatewayError.problems`)
as `userErrors`, every wrong field at once, bound to its path in the input (and counted in
`todo_graphql_user_errors_total`). Anything else
(UNAUTHENTICATED, RATE_LIMITED, UNAVAILABLE, INTERNAL) stays a top-level error, which nulls this
payload only: the other mutations of the document keep their results.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry

from gateway.arguments import given
from gateway.errors import GatewayError, Problem, UserError, UserErrorCode
from todo_runtime import metrics


@strawberry.input(description="What every mutation input has.")
class MutationInput:
    client_mutation_id: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Any string: the payload echoes it, to match answers to requests.",
    )


@strawberry.type(description="What every mutation payload has.")
class Payload:
    client_mutation_id: str | None = strawberry.field(
        default=None, description="The input's `clientMutationId`, as sent."
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="Why the input was refused, one entry per wrong field; empty when the "
        "mutation succeeded.",
    )


PayloadT = TypeVar("PayloadT", bound=Payload)


def _same(path: tuple[str, ...]) -> tuple[str, ...]:
    return path


async def answered(
    input: MutationInput,
    payload: type[PayloadT],
    perform: Callable[[], Awaitable[PayloadT]],
    *,
    id_field: str | None = None,
    locate: Callable[[tuple[str, ...]], tuple[str, ...]] = _same,
) -> PayloadT:
    """`perform()`'s payload, or an empty one with the refusal as `userErrors`.

    `id_field` is the input field holding the id the mutation is about (a NOT_FOUND is bound to
    it); `locate` moves a service's field path to where the input has it.
    """
    try:
        answer = await perform()
    except GatewayError as error:
        if not error.problems:
            raise
        answer = payload(user_errors=[_user_error(p, id_field, locate) for p in error.problems])
        mutation = payload.__name__.removesuffix("Payload")
        mutation = mutation[:1].lower() + mutation[1:]  # CreateTaskPayload: createTask
        for user_error in answer.user_errors:
            metrics.GRAPHQL_USER_ERRORS.labels(mutation, user_error.code.value).inc()
    if given(input.client_mutation_id):
        answer.client_mutation_id = input.client_mutation_id
    return answer


def _user_error(
    problem: Problem, id_field: str | None, locate: Callable[[tuple[str, ...]], tuple[str, ...]]
) -> UserError:
    field = problem.field
    if field is None and problem.code is UserErrorCode.NOT_FOUND and id_field is not None:
        field = ("input", id_field)
    return UserError(
        field=list(locate(field)) if field is not None else None,
        message=problem.message,
        code=problem.code,
    )


__all__ = ["MutationInput", "Payload", "PayloadT", "answered"]
