"""Strawberry's schema extension runner, with each hook wrapped once per extension class.

For every operation Strawberry wraps every hook of every extension anew: it asks
`inspect` what kind of function the hook is and builds a context manager around
the bound method (`functools.wraps` included), four stages times every extension.
For the gateway's extensions that was about 7% of a small operation's CPU in the
gateway. Here the wrapper is built once per class and hook and called with each
operation's extension, so an operation only enters its hooks.

What runs is Strawberry's: the same hooks, in the extensions' order, entered on
one exit stack per stage and left in reverse (a hook cannot swallow an exception);
a hook an extension does not override is skipped; an async hook in a synchronous
execution is refused as Strawberry refuses it.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from types import TracebackType
from typing import Any, NamedTuple

from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner


class _Hook(NamedTuple):
    """How to enter one hook of one extension class: `enter(extension)` is its context manager."""

    enter: Callable[
        [SchemaExtension],
        contextlib.AbstractContextManager[None] | contextlib.AbstractAsyncContextManager[None],
    ]
    is_async: bool


# Per extension class and hook name: the classes are the schema's, a handful.
_HOOKS: dict[tuple[type[SchemaExtension], str], _Hook | None] = {}


def _hook(extension_class: type[SchemaExtension], name: str) -> _Hook | None:
    """The wrapped hook `name` of `extension_class`; None where it keeps the base class's."""
    key = (extension_class, name)
    if key not in _HOOKS:
        _HOOKS[key] = _wrapped(extension_class, name)
    return _HOOKS[key]


def _wrapped(extension_class: type[SchemaExtension], name: str) -> _Hook | None:
    function = getattr(extension_class, name)
    if function is getattr(SchemaExtension, name):
        return None
    if inspect.isgeneratorfunction(function):
        return _Hook(contextlib.contextmanager(function), is_async=False)
    if inspect.isasyncgenfunction(function):
        return _Hook(contextlib.asynccontextmanager(function), is_async=True)
    if inspect.iscoroutinefunction(function):

        @contextlib.asynccontextmanager
        async def awaited(extension: SchemaExtension) -> AsyncIterator[None]:
            await function(extension)
            yield

        return _Hook(awaited, is_async=True)
    if callable(function):

        @contextlib.contextmanager
        def called(extension: SchemaExtension) -> Iterator[None]:
            function(extension)
            yield

        return _Hook(called, is_async=False)
    raise ValueError(f"Hook {name} on {extension_class} must be callable, received {function!r}")


class _Stage:
    """One stage's hooks (`on_operation`, `on_parse`, ...) of one operation's extensions."""

    __slots__ = ("_async_stack", "_extensions", "_name", "_stack")

    def __init__(self, extensions: list[SchemaExtension], name: str) -> None:
        self._extensions = extensions
        self._name = name

    def _hooks(self) -> Iterator[tuple[_Hook, SchemaExtension]]:
        for extension in self._extensions:
            hook = _hook(type(extension), self._name)
            if hook is not None:
                yield hook, extension

    def __enter__(self) -> None:
        self._stack = contextlib.ExitStack()
        self._stack.__enter__()
        for hook, extension in self._hooks():
            if hook.is_async:
                raise RuntimeError(
                    f"SchemaExtension hook {extension}.{self._name} failed to complete "
                    "synchronously."
                )
            self._stack.enter_context(hook.enter(extension))  # type: ignore[arg-type]

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self._stack.__exit__(exc_type, exc_val, exc_tb)

    async def __aenter__(self) -> None:
        self._async_stack = contextlib.AsyncExitStack()
        await self._async_stack.__aenter__()
        for hook, extension in self._hooks():
            entered: Any = hook.enter(extension)
            if hook.is_async:
                await self._async_stack.enter_async_context(entered)
            else:
                self._async_stack.enter_context(entered)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self._async_stack.__aexit__(exc_type, exc_val, exc_tb)


class CachedHooksRunner(SchemaExtensionsRunner):
    """Strawberry's runner whose stages enter hooks wrapped once per class (`_hook`)."""

    def operation(self) -> _Stage:  # type: ignore[override]  # the same protocol, lighter
        return _Stage(self.extensions, "on_operation")

    def validation(self) -> _Stage:  # type: ignore[override]
        return _Stage(self.extensions, "on_validate")

    def parsing(self) -> _Stage:  # type: ignore[override]
        return _Stage(self.extensions, "on_parse")

    def executing(self) -> _Stage:  # type: ignore[override]
        return _Stage(self.extensions, "on_execute")
