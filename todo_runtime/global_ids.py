"""The public id scheme: unpadded base64url of `<Type>:<local id>` (Relay's convention).

One scheme for every id users see, in the GraphQL API and in webhook payloads
alike, so an id from one can be used with the other.
"""

from __future__ import annotations

import base64


def global_id(type_name: str, local_id: str) -> str:
    raw = f"{type_name}:{local_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
