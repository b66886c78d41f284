"""`python -m todo_cli.run_as USER PROGRAM [ARG...]`: runs PROGRAM as the system user USER.

PostgreSQL refuses to run as root, so under root the embedded server runs as
another user. Dropping privileges here, in a fresh interpreter that then
replaces itself with PROGRAM, keeps the parent from forking with `user=`: a
plain spawn is safe in a process whose gRPC threads are running, a fork with
a privilege change is not (gRPC's fork handlers crash the child).
"""

from __future__ import annotations

import os
import pwd
import sys

from todo_cli.die_with_parent import parent_death_signal, tie_to_parent


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        raise SystemExit("usage: python -m todo_cli.run_as USER PROGRAM [ARG...]")
    user = pwd.getpwnam(argv[0])
    parent, tie = os.getppid(), parent_death_signal()  # a change of user undoes the tie
    os.setgroups([])
    os.setgid(user.pw_gid)
    os.setuid(user.pw_uid)
    if tie:
        tie_to_parent(parent, tie)
    os.environ["HOME"] = user.pw_dir
    os.execv(argv[1], argv[1:])  # noqa: S606 - our own PostgreSQL binaries


if __name__ == "__main__":
    main(sys.argv[1:])
