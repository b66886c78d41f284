"""`todo check`: is the deployed platform serving? The chart's `helm test` runs it.

Two kinds of check, all at once, each within its own deadline: one GraphQL query through the
gateway (a bearer token, the gateway's auth, a call to svc_tasks and back), and the standard gRPC
health check (`grpc.health.v1.Health/Check`, the empty service name: readiness) of every service,
over channels made as the gateway makes its own. One line per check; exit 0 when every check
passed, 1 otherwise.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Final

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from todo_cli.audit_verify import default_url
from todo_runtime import endpoints
from todo_runtime.config import Env
from todo_runtime.grpc_client import open_channel
from todo_runtime.tokens import issue_token

CHECK_TOKEN_ENV: Final = "TODO_CHECK_TOKEN"  # noqa: S105 - the variable's name, not a secret
JWT_SECRET_ENV: Final = "TODO_JWT_SECRET"  # noqa: S105 - the variable's name, not a secret
# The claims the gateway requires when these are set (its own settings, read the same way).
AUDIENCE_ENV: Final = "TODO_JWT_AUDIENCE"
ISSUER_ENV: Final = "TODO_JWT_ISSUER"
CHECK_USER: Final = "todo-check"  # owns no tasks: the query reads an empty page
TOKEN_SECONDS: Final = 300
DEFAULT_TIMEOUT: Final = 5.0
# The cheapest query that still passes auth and reaches a service (svc_tasks' ListTasks).
QUERY: Final = "{ tasks(first: 1) { edges { node { id } } } }"
SERVICES: Final = (
    endpoints.TASKS,
    endpoints.NOTIFY,
    endpoints.RECUR,
    endpoints.AUDIT,
    endpoints.LIVE,
)


@dataclass(frozen=True)
class Outcome:
    """One check: what it reached, and why it failed (None: it passed)."""

    name: str
    target: str
    problem: str | None = None

    def line(self) -> str:
        if self.problem is None:
            return f"ok    {self.name} {self.target}"
        return f"FAIL  {self.name} {self.target}: {self.problem}"


def bearer_token(env: Env) -> str:
    """TODO_CHECK_TOKEN as it is (an identity provider's, RS256), else one minted with
    TODO_JWT_SECRET (HS256) for the check's own user, with the audience and issuer the gateway
    requires when it requires them."""
    given = env.text(CHECK_TOKEN_ENV, "")
    if given:
        return given
    secret = env.text(JWT_SECRET_ENV, "")
    if not secret:
        raise ValueError(f"set {CHECK_TOKEN_ENV} or {JWT_SECRET_ENV}")
    return issue_token(
        secret,
        CHECK_USER,
        TOKEN_SECONDS,
        audience=env.text(AUDIENCE_ENV, "") or None,
        issuer=env.text(ISSUER_ENV, "") or None,
    )


async def check_gateway(url: str, env: Env, deadline: float) -> Outcome:
    """The query through the gateway: HTTP 200 with data and no error."""
    try:
        token = bearer_token(env)
    except ValueError as error:
        return Outcome("gateway", url, str(error))
    try:
        async with httpx.AsyncClient(timeout=deadline) as client:
            response = await client.post(
                url, json={"query": QUERY}, headers={"Authorization": f"Bearer {token}"}
            )
    except httpx.HTTPError as error:
        return Outcome("gateway", url, f"{type(error).__name__}: {error}")
    try:
        body = response.json()
    except ValueError:
        return Outcome("gateway", url, f"HTTP {response.status_code}, not a GraphQL answer")
    errors = body.get("errors") if isinstance(body, dict) else None
    if errors:
        first = errors[0]
        code = (first.get("extensions") or {}).get("code", "")
        return Outcome("gateway", url, f"HTTP {response.status_code}: {code} {first['message']}")
    data = body.get("data") if isinstance(body, dict) else None
    if response.status_code != 200 or not isinstance(data, dict) or data.get("tasks") is None:
        return Outcome("gateway", url, f"HTTP {response.status_code}: no tasks in {body!r}")
    return Outcome("gateway", url)


async def check_service(endpoint: endpoints.Endpoint, address: str, deadline: float) -> Outcome:
    """gRPC health of `address`: SERVING for the empty name (the service's readiness)."""
    try:
        async with open_channel(address) as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=deadline
            )
    except grpc.aio.AioRpcError as error:
        return Outcome(endpoint.name, address, f"{error.code().name}: {error.details()}")
    if reply.status != health_pb2.HealthCheckResponse.SERVING:
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        return Outcome(endpoint.name, address, f"health {status}")
    return Outcome(endpoint.name, address)


NAMES: Final = ("gateway", *(endpoint.name for endpoint in SERVICES))


async def run_checks(
    env: Env, deadline: float, skip: frozenset[str] = frozenset()
) -> list[Outcome]:
    """Every check at once, each within `deadline` seconds, in a fixed order: the gateway, then
    the services; none for the parts named in `skip` (a release without them)."""
    checks = [check_gateway(default_url(env), env, deadline)] if "gateway" not in skip else []
    checks += [check_service(e, e.address(env), deadline) for e in SERVICES if e.name not in skip]
    return list(await asyncio.gather(*checks))
