"""Outgoing gRPC: channels with retries on UNAVAILABLE, and per-call identity plus deadline."""

from __future__ import annotations

import json
from dataclasses import dataclass

import grpc

from todo_runtime import request_context, tracing
from todo_runtime.identity import identity_metadata

_SERVICE_CONFIG = json.dumps(
    {
        "methodConfig": [
            {
                "name": [{}],
                "retryPolicy": {
                    "maxAttempts": 4,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "1s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
)


def open_channel(address: str) -> grpc.aio.Channel:
    """An insecure channel (mTLS belongs to the mesh) that retries calls that never reached the
    server, and traces its calls when tracing is on."""
    return grpc.aio.insecure_channel(
        address,
        interceptors=tracing.client_interceptors(),
        options=[
            ("grpc.enable_retries", 1),
            ("grpc.service_config", _SERVICE_CONFIG),
            ("grpc.keepalive_time_ms", 30_000),
        ],
    )


@dataclass(frozen=True)
class CallContext:
    """What every outgoing call carries: who it is for, how long it may take, and the id of the
    request it is made for (`request_context`)."""

    secret: str
    timeout: float

    def metadata(self, user_id: str) -> tuple[tuple[str, str], ...]:
        return identity_metadata(self.secret, user_id) + request_context.correlation_metadata()

    def anonymous(self) -> tuple[tuple[str, str], ...]:
        """For a method that needs no caller (`ServiceBinding.public`): the request's id only."""
        return request_context.correlation_metadata()
