"""Who is calling: the user id the gateway verified, carried in signed gRPC metadata.

The gateway (or a service acting for a user, such as svc_recur) sends
`x-todo-user: <user id>` and `x-todo-signature: v1.<unix time>.<hex HMAC-SHA256>`
over "<user id>.<unix time>" with the shared internal secret. Services reject
missing, forged or stale (older than `max_age` seconds) signatures.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import time

from todo_runtime.errors import Unauthenticated
from todo_runtime.validation import user_id_problem

USER_KEY = "x-todo-user"
SIGNATURE_KEY = "x-todo-signature"
DEFAULT_MAX_AGE_SECONDS = 300

_current_user: contextvars.ContextVar[str | None] = contextvars.ContextVar("todo_current_user")


def _digest(secret: str, user_id: str, issued: int) -> str:
    return hmac.new(secret.encode(), f"{user_id}.{issued}".encode(), hashlib.sha256).hexdigest()


def sign(secret: str, user_id: str, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    return f"v1.{issued}.{_digest(secret, user_id, issued)}"


def identity_metadata(secret: str, user_id: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """Metadata for an outgoing call made on behalf of `user_id` (checked by `user_id_problem`)."""
    return ((USER_KEY, user_id), (SIGNATURE_KEY, sign(secret, user_id)))


def verify(
    secret: str,
    user_id: str | None,
    signature: str | None,
    *,
    max_age: int = DEFAULT_MAX_AGE_SECONDS,
    now: float | None = None,
) -> str:
    """Returns the verified user id or raises Unauthenticated saying why."""
    if not user_id or not signature:
        raise Unauthenticated(f"missing {USER_KEY} or {SIGNATURE_KEY} metadata")
    problem = user_id_problem(user_id)
    if problem is not None:
        raise Unauthenticated(f"{USER_KEY}: {problem}")
    parts = signature.split(".")
    if len(parts) != 3 or parts[0] != "v1" or not parts[1].isdigit():
        raise Unauthenticated(f"malformed {SIGNATURE_KEY}")
    issued = int(parts[1])
    current = time.time() if now is None else now
    if abs(current - issued) > max_age:
        raise Unauthenticated(f"{SIGNATURE_KEY} expired")
    if not hmac.compare_digest(parts[2], _digest(secret, user_id, issued)):
        raise Unauthenticated(f"bad {SIGNATURE_KEY}")
    return user_id


def current_user() -> str:
    """The verified caller of the RPC being served."""
    user = _current_user.get(None)
    if user is None:
        raise Unauthenticated("no authenticated caller")
    return user


def current_user_or(anonymous: str) -> str:
    """The verified caller, or `anonymous` for a public method called without one."""
    user = _current_user.get(None)
    return anonymous if user is None else user


def set_current_user(user_id: str | None) -> contextvars.Token[str | None]:
    return _current_user.set(user_id)


def reset_current_user(token: contextvars.Token[str | None]) -> None:
    _current_user.reset(token)
