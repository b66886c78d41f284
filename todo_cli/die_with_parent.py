"""`python -m todo_cli.die_with_parent PARENT SIGNAL PROGRAM [ARG...]`: runs PROGRAM so that it
gets SIGNAL when its parent dies, however it dies.

A `todo up` (or a test run) killed with SIGKILL cannot stop its children, and a child left running
holds its port, so the next `todo up` refuses to start. Linux can tie a process to its parent
(`prctl(PR_SET_PDEATHSIG)`); the tie is made here, in a fresh interpreter that then replaces
itself with PROGRAM (it survives `execv`), rather than between fork and exec in the parent, which
runs gRPC threads. PARENT is the parent's pid: if it is gone already, PROGRAM never starts. Where
the call does not exist (macOS), PROGRAM simply runs.

The tie is to the thread that started the child, so start children from a thread that lives as
long as they should: the event loop's, or the main thread.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from typing import Final

_PR_SET_PDEATHSIG: Final = 1
_PR_GET_PDEATHSIG: Final = 2


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def tie_to_parent(parent: int, signum: int) -> None:
    """Has this process get `signum` when its parent dies; exits at once if it already has."""
    if sys.platform != "linux":
        return
    if _libc().prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # the parent died before the tie was made
        raise SystemExit(1)


def parent_death_signal() -> int:
    """The signal this process gets when its parent dies (0: none), for a process that must
    renew the tie after changing its user (which undoes it)."""
    if sys.platform != "linux":
        return 0
    signum = ctypes.c_int(0)
    if _libc().prctl(_PR_GET_PDEATHSIG, ctypes.byref(signum), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_GET_PDEATHSIG) failed")
    return signum.value


def tied(argv: list[str], signum: signal.Signals = signal.SIGTERM) -> list[str]:
    """`argv`, run so that it gets `signum` when this process dies."""
    if sys.platform != "linux":
        return argv
    return [
        sys.executable,
        "-m",
        "todo_cli.die_with_parent",
        str(os.getpid()),
        str(int(signum)),
        *argv,
    ]


def main(argv: list[str]) -> None:
    if len(argv) < 3:
        raise SystemExit("usage: python -m todo_cli.die_with_parent PARENT SIGNAL PROGRAM [ARG...]")
    tie_to_parent(int(argv[0]), int(argv[1]))
    os.execv(argv[2], argv[2:])  # noqa: S606 - the caller's own program


if __name__ == "__main__":
    main(sys.argv[1:])
