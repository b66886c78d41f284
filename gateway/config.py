"""Gateway settings, read once from the environment; a bad value fails at start-up, naming it."""

from __future__ import annotations

from dataclasses import dataclass

from todo_runtime import endpoints
from todo_runtime.config import RUN_ID_ENV, ConfigError, DatabaseConfig, Env, internal_secret
from todo_runtime.tokens import MIN_HMAC_KEY_BYTES

DEFAULT_MAX_DEPTH = 10
DEFAULT_MAX_TOKENS = 2000
DEFAULT_MAX_ALIASES = 15
DEFAULT_MAX_PAGE_SIZE = 200
DEFAULT_MAX_COST = 5000
DEFAULT_RATE_POINTS = 10_000
DEFAULT_RATE_RESTORE = 500.0
DEFAULT_RATE_SETTLE_SECONDS = 0.5
# svc_tasks caps page_size at 200: a larger gateway limit would silently return shorter pages.
SERVICE_MAX_PAGE_SIZE = 200
SUPPORTED_ALGORITHMS = ("HS256", "RS256")


@dataclass(frozen=True)
class GatewayConfig:
    """Everything the gateway needs to run.

    jwt_secret: the HS256 signing key (None with RS256).
    jwks_url: where RS256 public keys are fetched from (None with HS256).
    jwt_audience, jwt_issuer: when set, tokens must carry exactly these `aud`/`iss`.
    internal_secret: the key the gateway signs caller identities with for the services.
    grpc_timeout: deadline in seconds of every outgoing gRPC call.
    max_depth, max_tokens, max_aliases: bounds on one GraphQL document.
    max_page_size: the largest `first` a connection field accepts.
    allowed_origins: browser origins (besides the gateway's own) that may call
        /graphql over HTTP (CORS) and WebSocket; empty = same origin only.
    run_id: set by `todo up`; /readyz echoes it so its probe knows it reached its own gateway.
    max_cost: the most one operation may cost (see `limits.query_cost`).
    database: where the per-user rate-limit buckets live, shared by every replica; None = no
        rate limit.
    rate_points, rate_restore: each user's bucket size, and the points it regains per second.
    rate_settle_interval: seconds between two settlements of this replica's buckets with the
        shared ones (`rate_buckets`).
    live_address: svc_live, whose streams feed the subscriptions.
    ws_init_timeout: seconds a WebSocket may stay open without `connection_init` (then 4408).
    ws_ping_interval: seconds between the server's WebSocket pings; a client that answers none
        within another interval is dropped, with its subscriptions and gRPC streams.
    ws_max_operations: operations one connection may run at once (more get an `error` message).
    ws_max_connections_per_user: open connections per user (more are closed with 4403).
    subscription_buffer: events one subscription holds for a slow client (then SLOW_CONSUMER).
    """

    jwt_secret: str | None
    jwt_algorithm: str
    jwks_url: str | None
    jwt_audience: str | None
    jwt_issuer: str | None
    tasks_address: str
    recur_address: str
    internal_secret: str
    grpc_timeout: float
    max_depth: int = DEFAULT_MAX_DEPTH
    max_tokens: int = DEFAULT_MAX_TOKENS
    max_aliases: int = DEFAULT_MAX_ALIASES
    max_page_size: int = DEFAULT_MAX_PAGE_SIZE
    host: str = "127.0.0.1"
    port: int = 8000
    allowed_origins: tuple[str, ...] = ()
    run_id: str = ""
    notify_address: str = "127.0.0.1:50052"
    audit_address: str = "127.0.0.1:50054"
    max_cost: int = DEFAULT_MAX_COST
    database: DatabaseConfig | None = None
    rate_points: int = DEFAULT_RATE_POINTS
    rate_restore: float = DEFAULT_RATE_RESTORE
    rate_settle_interval: float = DEFAULT_RATE_SETTLE_SECONDS
    live_address: str = "127.0.0.1:50055"
    ws_init_timeout: float = 3.0
    ws_ping_interval: float = 20.0
    ws_max_operations: int = 20
    ws_max_connections_per_user: int = 20
    subscription_buffer: int = 100

    def __post_init__(self) -> None:
        if self.jwt_algorithm not in SUPPORTED_ALGORITHMS:
            raise ConfigError(
                "environment variable TODO_JWT_ALGORITHM must be one of "
                f"{', '.join(SUPPORTED_ALGORITHMS)}, got {self.jwt_algorithm!r}"
            )
        if self.jwt_algorithm == "HS256" and (
            self.jwt_secret is None or len(self.jwt_secret.encode()) < MIN_HMAC_KEY_BYTES
        ):
            raise ConfigError(
                "environment variable TODO_JWT_SECRET must be at least "
                f"{MIN_HMAC_KEY_BYTES} bytes with HS256"
            )
        if self.jwt_algorithm == "RS256" and not (self.jwks_url or "").startswith(
            ("https://", "http://")
        ):
            raise ConfigError(
                "environment variable TODO_JWT_JWKS_URL (http or https) is required with RS256"
            )
        if not 1 <= self.max_page_size <= SERVICE_MAX_PAGE_SIZE:
            raise ConfigError(
                f"TODO_GRAPHQL_MAX_PAGE_SIZE must be between 1 and {SERVICE_MAX_PAGE_SIZE}"
            )
        if self.grpc_timeout <= 0:
            raise ConfigError("environment variable TODO_GRPC_TIMEOUT_SECONDS must be positive")
        if not 1 <= self.max_cost <= self.rate_points:
            raise ConfigError(
                "TODO_GRAPHQL_MAX_COST must be at least 1 and at most TODO_RATE_LIMIT_POINTS"
            )
        if self.rate_restore <= 0:
            raise ConfigError("environment variable TODO_RATE_LIMIT_RESTORE must be positive")
        if not 0 < self.rate_settle_interval <= 60:
            raise ConfigError(
                "environment variable TODO_RATE_LIMIT_SETTLE_SECONDS must be above 0 and at most 60"
            )
        if min(self.ws_init_timeout, self.ws_ping_interval) <= 0:
            raise ConfigError(
                "TODO_WS_INIT_TIMEOUT_SECONDS and TODO_WS_PING_SECONDS must be positive"
            )
        if min(self.ws_max_operations, self.ws_max_connections_per_user) < 1:
            raise ConfigError(
                "TODO_WS_MAX_OPERATIONS and TODO_WS_MAX_CONNECTIONS_PER_USER must be at least 1"
            )
        if self.subscription_buffer < 1:
            raise ConfigError("environment variable TODO_SUBSCRIPTION_BUFFER must be at least 1")

    @classmethod
    def from_env(cls, env: Env) -> GatewayConfig:
        algorithm = env.text("TODO_JWT_ALGORITHM", "HS256").upper()
        return cls(
            jwt_secret=env.text("TODO_JWT_SECRET") if algorithm == "HS256" else None,
            jwt_algorithm=algorithm,
            jwks_url=env.text("TODO_JWT_JWKS_URL") if algorithm == "RS256" else None,
            jwt_audience=env.text("TODO_JWT_AUDIENCE", "") or None,
            jwt_issuer=env.text("TODO_JWT_ISSUER", "") or None,
            tasks_address=endpoints.TASKS.address(env),
            recur_address=endpoints.RECUR.address(env),
            notify_address=endpoints.NOTIFY.address(env),
            audit_address=endpoints.AUDIT.address(env),
            live_address=endpoints.LIVE.address(env),
            ws_init_timeout=env.number("TODO_WS_INIT_TIMEOUT_SECONDS", 3.0),
            ws_ping_interval=env.number("TODO_WS_PING_SECONDS", 20.0),
            ws_max_operations=env.integer("TODO_WS_MAX_OPERATIONS", 20),
            ws_max_connections_per_user=env.integer("TODO_WS_MAX_CONNECTIONS_PER_USER", 20),
            subscription_buffer=env.integer("TODO_SUBSCRIPTION_BUFFER", 100),
            internal_secret=internal_secret(env),
            grpc_timeout=env.number("TODO_GRPC_TIMEOUT_SECONDS", 5.0),
            max_depth=env.integer("TODO_GRAPHQL_MAX_DEPTH", DEFAULT_MAX_DEPTH),
            max_tokens=env.integer("TODO_GRAPHQL_MAX_TOKENS", DEFAULT_MAX_TOKENS),
            max_aliases=env.integer("TODO_GRAPHQL_MAX_ALIASES", DEFAULT_MAX_ALIASES),
            max_page_size=env.integer("TODO_GRAPHQL_MAX_PAGE_SIZE", DEFAULT_MAX_PAGE_SIZE),
            host=env.text("TODO_GATEWAY_HOST", "127.0.0.1"),
            port=endpoints.GATEWAY.port(env),
            allowed_origins=tuple(
                origin.strip()
                for origin in env.text("TODO_GATEWAY_ALLOWED_ORIGINS", "").split(",")
                if origin.strip()
            ),
            run_id=env.text(RUN_ID_ENV, ""),
            max_cost=env.integer("TODO_GRAPHQL_MAX_COST", DEFAULT_MAX_COST),
            database=DatabaseConfig.from_env(env) if env.text("DATABASE_URL", "") else None,
            rate_points=env.integer("TODO_RATE_LIMIT_POINTS", DEFAULT_RATE_POINTS),
            rate_restore=env.number("TODO_RATE_LIMIT_RESTORE", DEFAULT_RATE_RESTORE),
            rate_settle_interval=env.number(
                "TODO_RATE_LIMIT_SETTLE_SECONDS", DEFAULT_RATE_SETTLE_SECONDS
            ),
        )
