"""Which of the ports `todo up` needs are taken, checked before anything starts."""

from __future__ import annotations

import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class PortClaim:
    """`port` on `host` is needed by `owner`; `setting` is the variable that moves it."""

    owner: str
    host: str
    port: int
    setting: str


def is_taken(host: str, port: int) -> bool:
    """True when something listens on host:port (a socket in TIME_WAIT does not count)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def taken_ports(claims: list[PortClaim]) -> list[PortClaim]:
    return [claim for claim in claims if is_taken(claim.host, claim.port)]


def describe_taken(taken: list[PortClaim]) -> str:
    """One sentence naming each taken port, its owner and the variable that moves it."""
    parts = [f"{c.port} ({c.owner}; move it with {c.setting})" for c in taken]
    return "ports already in use: " + ", ".join(parts) + ". Is another `todo up` running?"


def clashing(claims: list[PortClaim]) -> str | None:
    """One sentence naming the first port two claims share (so `todo up` would bind it twice),
    or None."""
    seen: dict[int, PortClaim] = {}
    for claim in claims:
        first = seen.setdefault(claim.port, claim)
        if first is not claim:
            return (
                f"port {claim.port} is wanted by {first.owner} ({first.setting}) and by "
                f"{claim.owner} ({claim.setting}); move one of them"
            )
    return None
