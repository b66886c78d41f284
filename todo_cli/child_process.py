"""A server process started and stopped directly (tests, benchmarks); `todo up` supervises instead.

Either way it dies with its parent (`die_with_parent`): a killed test run leaves no server behind."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import IO

from todo_cli.die_with_parent import tied


class ChildProcess:
    """One process with its output appended to a log file (or discarded)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def exit_code(self) -> int | None:
        """None while running (or never started)."""
        return self._process.poll() if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def launch(
        self,
        argv: list[str],
        log_path: Path | None,
        on_parent_death: signal.Signals = signal.SIGINT,
    ) -> None:
        """Starts `argv`; it gets `on_parent_death` if this process dies without stopping it."""
        self._close_log()
        self._log = open(log_path, "ab") if log_path else None  # noqa: SIM115 - closed in stop()
        self._process = subprocess.Popen(  # noqa: S603 - our own binaries and arguments
            tied(argv, on_parent_death),
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C in the terminal reaches only the parent
        )

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
        self._close_log()

    def stop(self, signum: signal.Signals, timeout: float) -> None:
        """`signum`, then SIGKILL after `timeout` seconds."""
        if self._process is not None:
            if self._process.poll() is None:
                self._process.send_signal(signum)
                try:
                    self._process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
            self._process = None
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
