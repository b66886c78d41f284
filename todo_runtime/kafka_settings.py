"""Every Kafka client's settings, built in one place: the broker, its security, shared defaults.

The security settings are named after librdkafka's own properties
(`KAFKA_SECURITY_PROTOCOL` is `security.protocol`, `KAFKA_SSL_CA_LOCATION` is
`ssl.ca.location`, ...), so a broker's documentation maps onto them one to one.
Every client of the platform starts from `client_settings`: the outbox relay's
producer, grouped and fan-out consumers, the admin clients that create topics
and watch topic ids, the broker watch, and `todo dlq replay`. A setting that
cannot work (SASL without a user name, a CA file that is not there, TLS files
with a plaintext protocol) fails at start, naming the variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import certifi

from todo_runtime.config import ConfigError, Env

PROTOCOLS: Final = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS: Final = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
# librdkafka logs every failed connection attempt (several lines a second while a broker is down
# or refuses us); the clients report problems once through error callbacks and the broker watch
# instead, so only critical library messages are kept.
LIBRDKAFKA_LOG_LEVEL: Final = 2

_TLS_FILES: Final = (
    "KAFKA_SSL_CA_LOCATION",
    "KAFKA_SSL_CERTIFICATE_LOCATION",
    "KAFKA_SSL_KEY_LOCATION",
)
_SASL_SETTINGS: Final = (
    "KAFKA_SASL_MECHANISM",
    "KAFKA_SASL_USERNAME",
    "KAFKA_SASL_PASSWORD",
    "KAFKA_SASL_PASSWORD_FILE",
)
SECURITY_VARIABLES: Final = ("KAFKA_SECURITY_PROTOCOL", *_TLS_FILES, *_SASL_SETTINGS)


@dataclass(frozen=True)
class TlsFiles:
    """ca_location: the PEM the broker's certificate is checked against (None: the public roots
    of `certifi`); certificate_location and key_location: the client's own (mutual TLS)."""

    ca_location: str | None = None
    certificate_location: str | None = None
    key_location: str | None = None


@dataclass(frozen=True)
class SaslCredentials:
    mechanism: str
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class KafkaSecurity:
    """How clients authenticate the broker (`tls`) and themselves (`tls`, `sasl`)."""

    protocol: str = "PLAINTEXT"
    tls: TlsFiles | None = None
    sasl: SaslCredentials | None = None

    @classmethod
    def from_env(cls, env: Env) -> KafkaSecurity:
        protocol = env.text("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").upper()
        if protocol not in PROTOCOLS:
            raise ConfigError(
                f"environment variable KAFKA_SECURITY_PROTOCOL must be one of "
                f"{', '.join(PROTOCOLS)}, got {protocol!r}"
            )
        uses_tls = protocol in ("SSL", "SASL_SSL")
        uses_sasl = protocol.startswith("SASL_")
        _refuse_unused(
            env, protocol, _TLS_FILES, used=uses_tls, what="TLS", protocols="SSL or SASL_SSL"
        )
        _refuse_unused(
            env,
            protocol,
            _SASL_SETTINGS,
            used=uses_sasl,
            what="SASL",
            protocols="SASL_SSL or SASL_PLAINTEXT",
        )
        return cls(
            protocol=protocol,
            tls=_tls_files(env) if uses_tls else None,
            sasl=_sasl_credentials(env, protocol) if uses_sasl else None,
        )

    def settings(self) -> dict[str, str]:
        """The librdkafka properties these settings stand for."""
        settings = {"security.protocol": self.protocol}
        if self.tls is not None:
            settings["ssl.ca.location"] = self.tls.ca_location or certifi.where()
            # The broker's host name must match its certificate (librdkafka's default since
            # 2.0, stated so that no older default or client override can turn it off).
            settings["ssl.endpoint.identification.algorithm"] = "https"
            if self.tls.certificate_location and self.tls.key_location:
                settings["ssl.certificate.location"] = self.tls.certificate_location
                settings["ssl.key.location"] = self.tls.key_location
        if self.sasl is not None:
            settings["sasl.mechanism"] = self.sasl.mechanism
            settings["sasl.username"] = self.sasl.username
            settings["sasl.password"] = self.sasl.password
        return settings


def _tls_files(env: Env) -> TlsFiles:
    certificate = _readable_file(env, "KAFKA_SSL_CERTIFICATE_LOCATION")
    key = _readable_file(env, "KAFKA_SSL_KEY_LOCATION")
    if (certificate is None) != (key is None):
        raise ConfigError(
            "environment variables KAFKA_SSL_CERTIFICATE_LOCATION and KAFKA_SSL_KEY_LOCATION "
            "go together (mutual TLS): set both or neither"
        )
    return TlsFiles(_readable_file(env, "KAFKA_SSL_CA_LOCATION"), certificate, key)


def _sasl_credentials(env: Env, protocol: str) -> SaslCredentials:
    mechanism = env.text("KAFKA_SASL_MECHANISM", "").upper()
    if mechanism not in MECHANISMS:
        raise ConfigError(
            f"environment variable KAFKA_SASL_MECHANISM must be one of {', '.join(MECHANISMS)} "
            f"with KAFKA_SECURITY_PROTOCOL={protocol}, got {mechanism or 'nothing'!r}"
        )
    username = env.text("KAFKA_SASL_USERNAME", "")
    if not username:
        raise ConfigError(
            f"environment variable KAFKA_SASL_USERNAME is required with "
            f"KAFKA_SECURITY_PROTOCOL={protocol}"
        )
    return SaslCredentials(mechanism, username, _password(env, protocol))


def _refuse_unused(
    env: Env, protocol: str, names: tuple[str, ...], *, used: bool, what: str, protocols: str
) -> None:
    """A setting the protocol ignores is a mistake (TLS meant, plaintext configured)."""
    if used:
        return
    for name in names:
        if env.text(name, ""):
            raise ConfigError(
                f"environment variable {name} is set, but KAFKA_SECURITY_PROTOCOL={protocol} "
                f"does not use {what} (set it to {protocols}, or unset {name})"
            )


def _readable_file(env: Env, name: str) -> str | None:
    path = env.text(name, "")
    if not path:
        return None
    try:
        with Path(path).open("rb"):
            pass
    except OSError as error:
        raise ConfigError(
            f"environment variable {name}: cannot read {path}: {error.strerror}"
        ) from None
    return path


def _password(env: Env, protocol: str) -> str:
    """KAFKA_SASL_PASSWORD, or the contents of KAFKA_SASL_PASSWORD_FILE (a mounted Secret)."""
    given = env.text("KAFKA_SASL_PASSWORD", "")
    path = env.text("KAFKA_SASL_PASSWORD_FILE", "")
    if given and path:
        raise ConfigError(
            "environment variables KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE are both "
            "set: set one"
        )
    if not path:
        if not given:
            raise ConfigError(
                f"environment variable KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE is "
                f"required with KAFKA_SECURITY_PROTOCOL={protocol}"
            )
        return given
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise ConfigError(
            f"environment variable KAFKA_SASL_PASSWORD_FILE: cannot read {path}: {reason}"
        ) from None
    password = text.removesuffix("\n").removesuffix("\r")  # as `echo` or an editor leaves it
    if not password:
        raise ConfigError(f"environment variable KAFKA_SASL_PASSWORD_FILE: {path} is empty")
    return password


@dataclass(frozen=True)
class KafkaConfig:
    """Broker address, security, and the client settings every producer and consumer shares.

    `fetch_wait_max_ms`: how long the broker may hold a fetch that found no
    record. Redpanda and Kafka answer as soon as a record arrives, so it only
    bounds idle round trips; Tansu checks for records within a fraction of it,
    so it also adds latency there (measured p50 per hop: 115 ms at 500 ms,
    16 ms at 100 ms, 3 ms at 10 ms). Every idle consumer costs the broker a
    fetch per interval: at 100 ms the idle stack's broker used 2.6% of a core,
    at 500 ms 1.0%. Consumers that need low latency set their own.
    """

    bootstrap_servers: str
    partitions: int
    replication_factor: int
    fetch_wait_max_ms: int
    session_timeout_ms: int
    assignment_strategy: str
    security: KafkaSecurity = field(default_factory=KafkaSecurity)

    @classmethod
    def from_env(cls, env: Env) -> KafkaConfig:
        return cls(
            bootstrap_servers=env.text("KAFKA_BOOTSTRAP_SERVERS"),
            partitions=env.integer("TODO_TOPIC_PARTITIONS", 3),
            replication_factor=env.integer("TODO_TOPIC_REPLICATION", 1),
            fetch_wait_max_ms=env.integer("TODO_KAFKA_FETCH_WAIT_MAX_MS", 500),
            session_timeout_ms=env.integer("TODO_KAFKA_SESSION_TIMEOUT_MS", 6000),
            assignment_strategy=env.text("TODO_KAFKA_ASSIGNMENT_STRATEGY", "range"),
            security=KafkaSecurity.from_env(env),
        )


def client_settings(
    config: KafkaConfig, properties: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """librdkafka settings of one client: the broker, its security, then its own `properties`."""
    return {
        "bootstrap.servers": config.bootstrap_servers,
        **config.security.settings(),
        "log_level": LIBRDKAFKA_LOG_LEVEL,
        **(properties or {}),
    }
