"""Development bearer tokens: what `todo token USER` prints and the tests sign in with.

The gateway verifies tokens (`gateway.auth`); minting lives here, below every
component, so the CLI and the tests need no gateway import to make one.
"""

from __future__ import annotations

import time
from typing import Final

import jwt

from todo_runtime.validation import user_id_problem

# RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
MIN_HMAC_KEY_BYTES: Final = 32


def issue_token(
    secret: str,
    user_id: str,
    ttl_seconds: int,
    algorithm: str = "HS256",
    *,
    audience: str | None = None,
    issuer: str | None = None,
) -> str:
    """A signed token for `user_id`, valid for `ttl_seconds`.

    secret: the HS256 key (at least 32 bytes) or, for RS256, a PEM private key.
    audience, issuer: the `aud` and `iss` claims, for a gateway that requires them.
    """
    problem = user_id_problem(user_id)
    if problem is not None:
        raise ValueError(f"user_id {user_id!r}: {problem}")
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    if algorithm == "HS256" and len(secret.encode()) < MIN_HMAC_KEY_BYTES:
        raise ValueError(f"an HS256 secret must be at least {MIN_HMAC_KEY_BYTES} bytes")
    now = int(time.time())
    claims: dict[str, str | int] = {"sub": user_id, "iat": now, "exp": now + ttl_seconds}
    if audience:
        claims["aud"] = audience
    if issuer:
        claims["iss"] = issuer
    return jwt.encode(claims, secret, algorithm=algorithm)
