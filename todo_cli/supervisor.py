"""Runs each part of the local stack as its own process and restarts one that dies, with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from todo_cli.die_with_parent import tied
from todo_runtime.backoff import Backoff

log = logging.getLogger(__name__)
STOP_TIMEOUT = 10.0  # every component stops within this, even with its broker or database away
HEALTHY_AFTER = 30.0  # a process that ran this long and died is a fresh failure: backoff restarts


@dataclass(frozen=True)
class ProcessSpec:
    """How to run one part: `argv`, output to `log_path`, stopped with `stop_signal`.

    `ready(pid)` tells whether the process with that pid serves (a probe that
    must reach this very process, not whatever answers on its port).
    """

    name: str
    argv: list[str]
    log_path: Path
    ready: Callable[[int], Awaitable[bool]]
    env: dict[str, str] | None = None
    stop_signal: signal.Signals = signal.SIGTERM
    address: str = field(default="", compare=False)


class Supervised:
    """One supervised process; `run()` keeps it alive until `stop()`."""

    def __init__(self, spec: ProcessSpec) -> None:
        self.spec = spec
        self._process: asyncio.subprocess.Process | None = None
        self._stopping = False
        self._started = asyncio.Event()

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.returncode is None else None

    async def run(self) -> None:
        """Starts the process and restarts it whenever it exits, until stop()."""
        backoff = Backoff(1.0, 30.0)
        loop = asyncio.get_running_loop()
        while not self._stopping:
            with self.spec.log_path.open("ab") as output:
                # Tied to `todo up`: killed with SIGKILL, it leaves nothing running behind it.
                self._process = await asyncio.create_subprocess_exec(
                    *tied(self.spec.argv, self.spec.stop_signal),
                    env=self.spec.env,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=output,
                    stderr=output,
                    start_new_session=True,  # Ctrl-C reaches only `todo up`, which stops children in order
                )
            self._started.set()
            started = loop.time()
            code = await self._process.wait()
            if self._stopping:
                return
            if loop.time() - started > HEALTHY_AFTER:
                backoff.reset()
            delay = backoff.next_delay()
            log.warning(
                "%s exited with status %s; restarting in %.1f s (log: %s)",
                self.spec.name,
                code,
                delay,
                self.spec.log_path,
            )
            await asyncio.sleep(delay)

    async def wait_ready(self, within: float) -> bool:
        """True once the running process answers its readiness probe, False after `within` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        await self._started.wait()
        while loop.time() < deadline:
            pid = self.pid
            if pid is not None and await self.spec.ready(pid):
                return True
            await asyncio.sleep(0.1)
        return False

    async def stop(self) -> None:
        """The stop signal, then SIGKILL after STOP_TIMEOUT seconds."""
        self._stopping = True
        process = self._process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(self.spec.stop_signal)
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            log.warning("%s did not stop in %.0f s; killing it", self.spec.name, STOP_TIMEOUT)
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
