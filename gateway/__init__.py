"""The public GraphQL gateway: Strawberry schema over the services' gRPC APIs, served by Starlette.

It holds no state of its own: it verifies the caller's JWT, then calls the
services on the caller's behalf with a signed identity (`todo_runtime.identity`).

Layers, each importing only those below it (lint-imports checks them): `app` serves the
`schema`, built from `api` (by domain) and `limits`; `transport` (HTTP and WebSocket) never
sees the API; below them the per-request `context`, the process-wide `services`, and what all
share (`errors`, `ids`, `paging`, `config`).
"""
