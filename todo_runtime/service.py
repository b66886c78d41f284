"""Start-up and orderly shutdown of a service's parts.

Parts are registered as they start; `stop()` undoes them in reverse order:
health NOT_SERVING and drain gRPC, cancel background loops, flush the
producer, close the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from contextlib import AsyncExitStack
from typing import Any

from todo_runtime.config import GrpcServerConfig
from todo_runtime.grpc_server import ServiceBinding, start_server
from todo_runtime.logs import configure_logging

log = logging.getLogger(__name__)


class RunningService:
    """A started service: its gRPC port and what must be stopped."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.port = 0
        self._stack = AsyncExitStack()

    @property
    def stack(self) -> AsyncExitStack:
        return self._stack

    def background(self, coroutine: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Runs a loop until stop(); a loop that crashes is logged (and the process keeps serving)."""
        task = asyncio.create_task(coroutine, name=f"{self.name}:{name}")

        def report(done: asyncio.Task[None]) -> None:
            if not done.cancelled() and done.exception() is not None:
                log.error("%s stopped unexpectedly", done.get_name(), exc_info=done.exception())

        task.add_done_callback(report)

        async def cancel() -> None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

        self._stack.push_async_callback(cancel)
        return task

    async def serve_grpc(
        self, config: GrpcServerConfig, secret: str, bindings: Sequence[ServiceBinding]
    ) -> None:
        """Starts the gRPC server (last, once everything it calls is up) and reports SERVING."""
        server = await start_server(config, secret, bindings)
        self._stack.push_async_callback(server.stop, config.grace_seconds)
        self.port = server.port
        await server.set_serving(True)
        log.info("%s serving gRPC on %s:%d", self.name, config.host, server.port)

    async def stop(self) -> None:
        await self._stack.aclose()
        log.info("%s stopped", self.name)


def serve(component: str, start: Callable[[], Awaitable[RunningService]]) -> None:
    """A service process's whole life: log set-up, start, run until SIGTERM/SIGINT, stop in order."""

    async def main() -> None:
        configure_logging(component)
        service = await start()
        try:
            await wait_for_stop_signal()
        finally:
            await service.stop()

    asyncio.run(main())


async def wait_for_stop_signal() -> None:
    """Returns on SIGTERM or SIGINT (the container stop and Ctrl-C)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
