"""An HTTP client of the gateway served on a real port, for tests of the HTTP transport itself."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx

from gateway.config import GatewayConfig
from tests.support.gateway.gateway_harness import make_config, serving, token_for


@contextlib.asynccontextmanager
async def served_http(
    config: GatewayConfig | None = None, user: str = "alice"
) -> AsyncIterator[httpx.AsyncClient]:
    """httpx against the gateway served by uvicorn (paths like `/graphql`), signed in as `user`."""
    async with (
        serving(config or make_config()) as ws_url,
        httpx.AsyncClient(
            base_url=ws_url.replace("ws://", "http://").removesuffix("/graphql"),
            headers={"Authorization": f"Bearer {token_for(user)}"},
            timeout=10,
        ) as client,
    ):
        yield client
