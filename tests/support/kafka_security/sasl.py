"""The server side of Kafka's SASL mechanisms: PLAIN and SCRAM (RFC 5802, through scramp).

Failures carry the messages Kafka's own broker sends, so a client sees what it
would see against a real cluster.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from typing import Protocol

from scramp import ScramException, ScramMechanism  # type: ignore[import-untyped]

PLAIN = "PLAIN"
SCRAM_SHA_256 = "SCRAM-SHA-256"
SCRAM_SHA_512 = "SCRAM-SHA-512"
MECHANISMS = (PLAIN, SCRAM_SHA_256, SCRAM_SHA_512)

SCRAM_ITERATIONS = 4096  # Kafka's minimum


class AuthenticationFailed(Exception):
    """Bad credentials or a malformed exchange; the message is what the client is told."""


class Credentials:
    """The users the proxy accepts, changeable while it runs, and how often each authenticated."""

    def __init__(self, users: Mapping[str, str]) -> None:
        self._lock = threading.Lock()
        self._passwords = dict(users)
        self._authentications: Counter[str] = Counter()

    def set_password(self, user: str, password: str) -> None:
        with self._lock:
            self._passwords[user] = password

    def password(self, user: str) -> str | None:
        with self._lock:
            return self._passwords.get(user)

    def record_authentication(self, user: str) -> None:
        with self._lock:
            self._authentications[user] += 1

    def authentications(self, user: str) -> int:
        with self._lock:
            return self._authentications[user]


class SaslExchange(Protocol):
    """One client's authentication: tokens in, tokens out, until `user` is known."""

    @property
    def user(self) -> str | None:
        """Who authenticated, once the exchange succeeded; None until then."""

    def step(self, token: bytes) -> bytes:
        """The server's answer to the client's token; AuthenticationFailed if it is refused."""


class PlainExchange:
    """PLAIN (RFC 4616): one token, `authzid NUL user NUL password`."""

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials
        self.user: str | None = None

    def step(self, token: bytes) -> bytes:
        parts = token.decode(errors="replace").split("\x00")
        if len(parts) != 3:
            raise AuthenticationFailed("Invalid SASL/PLAIN response: expected 3 tokens")
        authorization_id, user, password = parts
        if authorization_id not in ("", user):
            raise AuthenticationFailed(
                "Authentication failed: Client requested an authorization id that is different "
                "from username"
            )
        if not user or self._credentials.password(user) != password:
            raise AuthenticationFailed("Authentication failed: Invalid username or password")
        self.user = user
        return b""


class ScramExchange:
    """SCRAM-SHA-256/512: client-first, server-first, client-final, server-final."""

    def __init__(self, mechanism: str, credentials: Credentials) -> None:
        self._mechanism = ScramMechanism(mechanism)
        self._failure = (
            "Authentication failed during authentication due to invalid credentials with SASL "
            f"mechanism {mechanism}"
        )
        self._credentials = credentials
        self._server = self._mechanism.make_server(self._auth_info)
        self._claimed_user: str | None = None
        self._first_done = False
        self.user: str | None = None

    def _auth_info(self, user: str) -> tuple[bytes, bytes, bytes, int]:
        """The stored credentials scramp checks the proof against, derived from the password
        the proxy holds right now (a fresh salt each time is still valid SCRAM)."""
        password = self._credentials.password(user)
        if password is None:
            raise ScramException("unknown user")
        self._claimed_user = user
        salt, stored_key, server_key, iterations = self._mechanism.make_auth_info(
            password, iteration_count=SCRAM_ITERATIONS
        )
        return bytes(salt), bytes(stored_key), bytes(server_key), int(iterations)

    def step(self, token: bytes) -> bytes:
        try:
            message = token.decode()
            if not self._first_done:
                self._server.set_client_first(message)
                self._first_done = True
                return str(self._server.get_server_first()).encode()
            self._server.set_client_final(message)
            server_final = str(self._server.get_server_final()).encode()
        except (ScramException, UnicodeDecodeError) as error:
            raise AuthenticationFailed(self._failure) from error
        self.user = self._claimed_user
        return server_final


def start_exchange(mechanism: str, credentials: Credentials) -> SaslExchange:
    if mechanism == PLAIN:
        return PlainExchange(credentials)
    return ScramExchange(mechanism, credentials)
