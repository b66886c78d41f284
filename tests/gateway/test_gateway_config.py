"""GatewayConfig.from_env: defaults, and failures that name the variable at fault."""

from __future__ import annotations

import pytest

from gateway.config import GatewayConfig
from todo_runtime.config import ConfigError, Env

BASE = {"TODO_JWT_SECRET": "j" * 32, "TODO_INTERNAL_SECRET": "i" * 16}


def test_defaults() -> None:
    config = GatewayConfig.from_env(Env(BASE))
    assert config.jwt_algorithm == "HS256"
    assert config.jwt_secret == "j" * 32
    assert (config.jwks_url, config.jwt_audience, config.jwt_issuer) == (None, None, None)
    assert config.tasks_address == "127.0.0.1:50051"
    assert config.recur_address == "127.0.0.1:50053"
    assert config.grpc_timeout == 5.0
    assert (config.max_depth, config.max_tokens, config.max_aliases) == (10, 2000, 15)
    assert config.max_page_size == 200
    assert (config.host, config.port) == ("127.0.0.1", 8000)
    assert config.allowed_origins == ()


def test_overrides() -> None:
    config = GatewayConfig.from_env(
        Env(
            {
                **BASE,
                "TODO_TASKS_ADDR": "tasks:1",
                "TODO_RECUR_ADDR": "recur:2",
                "TODO_GRPC_TIMEOUT_SECONDS": "2.5",
                "TODO_GRAPHQL_MAX_DEPTH": "4",
                "TODO_GRAPHQL_MAX_TOKENS": "100",
                "TODO_GRAPHQL_MAX_ALIASES": "3",
                "TODO_GRAPHQL_MAX_PAGE_SIZE": "20",
                "TODO_JWT_AUDIENCE": "todo",
                "TODO_JWT_ISSUER": "https://idp.example",
                "TODO_GATEWAY_HOST": "0.0.0.0",
                "TODO_GATEWAY_PORT": "9000",
                "TODO_GATEWAY_ALLOWED_ORIGINS": "http://localhost:3000, https://app.example",
            }
        )
    )
    assert (config.tasks_address, config.recur_address, config.grpc_timeout) == (
        "tasks:1",
        "recur:2",
        2.5,
    )
    assert (config.max_depth, config.max_tokens, config.max_aliases, config.max_page_size) == (
        4,
        100,
        3,
        20,
    )
    assert (config.jwt_audience, config.jwt_issuer) == ("todo", "https://idp.example")
    assert (config.host, config.port) == ("0.0.0.0", 9000)
    assert config.allowed_origins == ("http://localhost:3000", "https://app.example")


def test_rs256_needs_a_jwks_url_and_no_secret() -> None:
    environ = {"TODO_INTERNAL_SECRET": "i" * 16, "TODO_JWT_ALGORITHM": "RS256"}
    with pytest.raises(ConfigError, match="TODO_JWT_JWKS_URL"):
        GatewayConfig.from_env(Env(environ))
    config = GatewayConfig.from_env(
        Env({**environ, "TODO_JWT_JWKS_URL": "https://idp.example/jwks"})
    )
    assert (config.jwt_algorithm, config.jwt_secret) == ("RS256", None)


@pytest.mark.parametrize(
    ("environ", "key"),
    [
        ({"TODO_INTERNAL_SECRET": "i" * 16}, "TODO_JWT_SECRET"),
        ({**BASE, "TODO_JWT_SECRET": "too-short"}, "TODO_JWT_SECRET"),
        ({"TODO_JWT_SECRET": "j" * 32}, "TODO_INTERNAL_SECRET"),
        ({**BASE, "TODO_JWT_ALGORITHM": "HS512"}, "TODO_JWT_ALGORITHM"),
        (
            {**BASE, "TODO_JWT_ALGORITHM": "RS256", "TODO_JWT_JWKS_URL": "file:///etc/jwks.json"},
            "TODO_JWT_JWKS_URL",
        ),
        ({**BASE, "TODO_GRAPHQL_MAX_DEPTH": "ten"}, "TODO_GRAPHQL_MAX_DEPTH"),
        ({**BASE, "TODO_GRAPHQL_MAX_PAGE_SIZE": "500"}, "TODO_GRAPHQL_MAX_PAGE_SIZE"),
        ({**BASE, "TODO_GRPC_TIMEOUT_SECONDS": "0"}, "TODO_GRPC_TIMEOUT_SECONDS"),
    ],
)
def test_bad_environment_names_the_key(environ: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        GatewayConfig.from_env(Env(environ))
