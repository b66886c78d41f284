"""The public GraphQL gateway: Strawberry schema over the services' gRPC APIs, served by Starlette.

It holds no state of its own: it verifies the caller's JWT, then calls the
services on the caller's behalf with a signed identity (`todo_runtime.identity`).
"""
