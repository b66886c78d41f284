"""`python -m gateway`: serve the gateway with uvicorn until SIGTERM or Ctrl-C.

uvicorn handles both signals: it stops accepting, lets in-flight requests
finish, then runs the lifespan shutdown that closes the gRPC channels.
"""

from __future__ import annotations

import uvicorn

from gateway.app import create_app
from gateway.config import GatewayConfig
from todo_runtime.config import Env
from todo_runtime.logs import configure_logging


def main() -> None:
    configure_logging("gateway")
    config = GatewayConfig.from_env(Env())
    uvicorn.run(
        create_app(config),
        host=config.host,
        port=config.port,
        lifespan="on",
        log_config=None,  # keep the process-wide format from configure_logging
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
