"""The gateway's extension runner does what Strawberry's does: the same hooks, in the same order,
for every kind of hook; an exception leaves the stage whatever a hook does; a synchronous stage
refuses an async hook. Each case runs on both runners and must leave the same record."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

import pytest
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from gateway.extension_hooks import CachedHooksRunner
from gateway.schema import build_schema

RUNNERS = [SchemaExtensionsRunner, CachedHooksRunner]
OPERATIONS = frozenset({OperationType.QUERY})


class Recorder(SchemaExtension):
    """Every kind of hook Strawberry accepts, each noting when it runs."""

    def __init__(self, log: list[str], name: str) -> None:
        super().__init__()
        self.log = log
        self.name = name

    def on_operation(self) -> Iterator[None]:  # a generator
        self.log.append(f"{self.name} operation in")
        try:
            yield
        except ValueError as error:
            self.log.append(f"{self.name} operation saw {error}")
            raise
        self.log.append(f"{self.name} operation out")

    async def on_parse(self) -> AsyncIterator[None]:  # an async generator
        self.log.append(f"{self.name} parse in")
        yield
        self.log.append(f"{self.name} parse out")

    async def on_validate(self) -> None:  # type: ignore[override]  # a coroutine function
        self.log.append(f"{self.name} validate")

    def on_execute(self) -> None:  # type: ignore[override]  # a plain function
        self.log.append(f"{self.name} execute")


class Swallower(SchemaExtension):
    """Tries to swallow what is raised inside its stage."""

    def on_operation(self) -> Iterator[None]:
        with contextlib.suppress(ValueError):
            yield


class Quiet(SchemaExtension):
    """Overrides no hook: nothing of it runs."""


def runner_for(
    runner: type[SchemaExtensionsRunner], extensions: list[SchemaExtension]
) -> SchemaExtensionsRunner:
    context = ExecutionContext(
        query="{ __typename }", schema=build_schema(), allowed_operations=OPERATIONS
    )
    return runner(execution_context=context, extensions=extensions)


@pytest.mark.parametrize("runner", RUNNERS)
async def test_every_kind_of_hook_runs_in_the_extensions_order(
    runner: type[SchemaExtensionsRunner],
) -> None:
    log: list[str] = []
    extensions: list[SchemaExtension] = [Recorder(log, "a"), Quiet(), Recorder(log, "b")]
    stages = runner_for(runner, extensions)

    async with stages.operation():
        async with stages.parsing():
            log.append("parsing")
        async with stages.validation():
            log.append("validating")
        async with stages.executing():
            log.append("executing")

    assert log == [
        "a operation in",
        "b operation in",
        "a parse in",
        "b parse in",
        "parsing",
        "b parse out",
        "a parse out",
        "a validate",
        "b validate",
        "validating",
        "a execute",
        "b execute",
        "executing",
        "b operation out",
        "a operation out",
    ]


@pytest.mark.parametrize("runner", RUNNERS)
async def test_an_exception_leaves_the_stage_whatever_a_hook_does(
    runner: type[SchemaExtensionsRunner],
) -> None:
    log: list[str] = []
    stages = runner_for(runner, [Recorder(log, "a"), Swallower(), Recorder(log, "b")])

    with pytest.raises(ValueError, match="boom"):
        async with stages.operation():
            raise ValueError("boom")

    # The hooks are left in reverse: b sees the error; the swallower ends it for the hooks
    # outside it (a leaves normally), and still the stage raises it.
    assert log == ["a operation in", "b operation in", "b operation saw boom", "a operation out"]


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_synchronous_stage_runs_synchronous_hooks(runner: type[SchemaExtensionsRunner]) -> None:
    log: list[str] = []
    stages = runner_for(runner, [Recorder(log, "a")])

    with stages.operation():
        log.append("operating")
    with stages.executing():
        pass

    assert log == ["a operation in", "operating", "a operation out", "a execute"]


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_synchronous_stage_refuses_an_async_hook(runner: type[SchemaExtensionsRunner]) -> None:
    stages = runner_for(runner, [Recorder([], "a")])

    with pytest.raises(RuntimeError, match="failed to complete synchronously"), stages.parsing():
        pass


def test_the_gateway_schema_runs_its_extensions_on_the_cached_runner() -> None:
    schema = build_schema()
    context = ExecutionContext(query="{ __typename }", schema=schema, allowed_operations=OPERATIONS)

    assert isinstance(schema.create_extensions_runner(context, []), CachedHooksRunner)
