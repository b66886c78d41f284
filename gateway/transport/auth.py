"""Who is calling: a Bearer JWT verified here, never forwarded; its `sub` is the user id.

HS256 tokens are checked against the shared secret; RS256 tokens against the
public keys of a JWKS endpoint (`jwt.PyJWKClient`, which caches them). Only the
configured algorithm is accepted, so a token cannot choose how it is verified.
A client sends the same token with every request until it expires, so a
verified token is remembered (by its whole text, until its `exp` and for at
most `VERIFIED_TTL_SECONDS`): the signature is checked once per token, not
once per request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Final

import jwt

from gateway.config import GatewayConfig
from todo_runtime.validation import user_id_problem

log = logging.getLogger(__name__)

_BEARER = "bearer"
# Verified tokens remembered; a client sending new ones only evicts the oldest.
VERIFIED_TOKENS: Final = 4096
# A remembered token is verified again after this long (a JWKS key may have been withdrawn).
VERIFIED_TTL_SECONDS: Final = 300.0


class AuthError(Exception):
    """The caller is not authenticated; the message says why, without secrets."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` value."""
    if not authorization or not authorization.strip():
        raise AuthError("missing bearer token: send 'Authorization: Bearer <jwt>'")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != _BEARER or not token.strip():
        raise AuthError("malformed Authorization header: expected 'Bearer <jwt>'")
    return token.strip()


def authorization_param(params: Mapping[str, object] | None) -> str | None:
    """The `Authorization` entry of a `connection_init` payload (key matched case-insensitively)."""
    for key, value in (params or {}).items():
        if key.lower() == "authorization" and isinstance(value, str):
            return value
    return None


class TokenVerifier:
    """Verifies Bearer JWTs with the configured algorithm, audience and issuer.

    `exp` and `sub` are required: a token that never expires or names nobody is refused.
    """

    def __init__(self, config: GatewayConfig) -> None:
        self._algorithm = config.jwt_algorithm
        self._secret = config.jwt_secret
        self._audience = config.jwt_audience
        self._issuer = config.jwt_issuer
        self._jwks = jwt.PyJWKClient(config.jwks_url, timeout=5) if config.jwks_url else None
        # token -> (user id, unix time until which it needs no new check)
        self._verified: OrderedDict[str, tuple[str, float]] = OrderedDict()

    async def user_id(self, authorization: str | None) -> str:
        """The verified user id of an `Authorization` header value; raises AuthError."""
        token = bearer_token(authorization)
        remembered = self._verified.get(token)
        now = time.time()
        if remembered is not None:
            if now < remembered[1]:
                self._verified.move_to_end(token)
                return remembered[0]
            del self._verified[token]
        user, expires = await self._verify(token)
        self._verified[token] = (user, min(expires, now + VERIFIED_TTL_SECONDS))
        if len(self._verified) > VERIFIED_TOKENS:
            self._verified.popitem(last=False)
        return user

    def expiry(self, authorization: str | None) -> float:
        """The `exp` (unix time) of a token `user_id` accepted; its signature is not checked again."""
        claims = jwt.decode(bearer_token(authorization), options={"verify_signature": False})
        return float(claims["exp"])

    async def _verify(self, token: str) -> tuple[str, float]:
        """The user id of a token and its `exp`, checked in full; raises AuthError."""
        key = await self._key(token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[self._algorithm],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("token expired") from None
        except jwt.InvalidTokenError as error:
            log.debug("rejected token: %s", error)
            raise AuthError("invalid token") from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject.strip():
            raise AuthError("invalid token: empty subject")
        problem = user_id_problem(subject)
        if problem is not None:
            raise AuthError(f"invalid token: its subject is not a user id ({problem})")
        return subject, float(claims["exp"])

    async def _key(self, token: str) -> Any:
        if self._jwks is None:
            return self._secret
        jwks = self._jwks
        try:
            # PyJWKClient fetches over blocking urllib: keep it off the event loop.
            return (await asyncio.to_thread(jwks.get_signing_key_from_jwt, token)).key
        except jwt.PyJWKClientConnectionError as error:
            log.warning("cannot fetch JWKS: %s", error)
            raise AuthError("token cannot be verified right now") from None
        except (jwt.PyJWKClientError, jwt.InvalidTokenError):
            raise AuthError("invalid token") from None
