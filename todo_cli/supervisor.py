"""Runs each component as its own process and restarts one that dies, with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from pathlib import Path

from todo_cli.components import Component

log = logging.getLogger(__name__)
INITIAL_BACKOFF, MAX_BACKOFF = 1.0, 30.0
STOP_TIMEOUT = 10.0


class Supervised:
    """One component: started with `todo serve <name>`'s code path, logs to `<logs>/<name>.log`."""

    def __init__(self, component: Component, env: dict[str, str], logs: Path) -> None:
        self.component = component
        self._env = env
        self._log_path = logs / f"{component.name}.log"
        self._process: asyncio.subprocess.Process | None = None
        self._stopping = False

    async def run(self) -> None:
        """Keeps the process running until stop(); a crash is logged and retried with growing delays."""
        backoff = INITIAL_BACKOFF
        while not self._stopping:
            with self._log_path.open("ab") as output:
                self._process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    self.component.module,
                    env=self._env,
                    stdout=output,
                    stderr=output,
                    start_new_session=True,  # Ctrl-C reaches only the supervisor, which stops children in order
                )
            started = asyncio.get_running_loop().time()
            code = await self._process.wait()
            if self._stopping:
                return
            if asyncio.get_running_loop().time() - started > MAX_BACKOFF:
                backoff = INITIAL_BACKOFF  # it ran a good while: this is a fresh failure
            log.warning(
                "%s exited with status %s; restarting in %.0f s (log: %s)",
                self.component.name,
                code,
                backoff,
                self._log_path,
            )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT seconds."""
        self._stopping = True
        process = self._process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            log.warning("%s did not stop in %.0f s; killing it", self.component.name, STOP_TIMEOUT)
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


async def wait_ready(component: Component, within: float) -> bool:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if await component.ready():
            return True
        await asyncio.sleep(0.2)
    return False


def child_environment(overrides: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(overrides)
    return env
