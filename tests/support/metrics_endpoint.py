"""A component's /metrics endpoint, served on a free port for one request, as a scraper sees it."""

from __future__ import annotations

import httpx

from todo_cli.broker import free_port
from todo_runtime.config import Env
from todo_runtime.metrics import PORT_ENV, serve_metrics


async def scraped(settings: dict[str, str]) -> httpx.Response:
    """GET /metrics from the server `serve_metrics` starts with `settings` (and a free port),
    stopped again afterwards."""
    port = free_port()
    server = serve_metrics(Env({**settings, PORT_ENV: str(port)}), "127.0.0.1")
    assert server is not None
    try:
        async with httpx.AsyncClient() as client:
            return await client.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    finally:
        server.shutdown()
        server.server_close()
