"""`python -m gateway`: serve the gateway with uvicorn until SIGTERM or Ctrl-C.

uvicorn handles both signals: it stops accepting, lets in-flight requests
finish, then runs the lifespan shutdown that closes the gRPC channels.
"""

from __future__ import annotations

import logging

import uvicorn

from gateway.app import create_app
from gateway.config import GatewayConfig
from gateway.transport.calendar import RedactedFeedTokens
from gateway.transport.server_options import server_options
from todo_runtime.config import Env
from todo_runtime.heap import freeze_startup_heap
from todo_runtime.logs import configure_logging, stop_on_bad_settings
from todo_runtime.metrics import serve_metrics
from todo_runtime.tracing import start_tracing


def main() -> None:
    with stop_on_bad_settings("gateway"):
        configure_logging("gateway")
        env = Env()
        config = GatewayConfig.from_env(env)
        start_tracing("gateway", env)  # before the app: its schema and channels look for it
        serve_metrics(env, config.host)
        app = create_app(config)
    # The access log names every path; a calendar feed's path is its secret.
    logging.getLogger("uvicorn.access").addFilter(RedactedFeedTokens())
    freeze_startup_heap()  # the schema and every module, out of the full collections' walk
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        lifespan="on",
        log_config=None,  # keep the process-wide format from configure_logging
        timeout_graceful_shutdown=10,
        **server_options(config),
    )


if __name__ == "__main__":
    main()
