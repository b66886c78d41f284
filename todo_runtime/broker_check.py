"""One look at the broker, as this component's clients see it, and why it failed when it did.

A failed request only says "timed out" or "transport failure"; the reason is in
what librdkafka reported while trying: an error callback (the TLS handshake or
SASL exchange that failed, an ACL that refused) or, for a plaintext client at a
TLS listener, only a log line (the broker hung up while the client asked for
its API versions). `BrokerCheck` keeps both and turns them into a `Problem`
with the settings an operator should look at.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Final

from confluent_kafka import KafkaError, KafkaException, TopicCollection
from confluent_kafka.admin import AdminClient

from todo_runtime.kafka_settings import KafkaConfig, client_settings

TIMEOUT: Final = 3.0  # seconds one check may take (a stop waits for one in flight)
_LOG_LEVEL: Final = 6  # the watch's client logs connection failures (FAIL), which say why

_AUTHORIZATION: Final = frozenset(
    {
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.GROUP_AUTHORIZATION_FAILED,
        KafkaError.CLUSTER_AUTHORIZATION_FAILED,
        KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    }
)
_AUTHENTICATION: Final = frozenset(
    {
        KafkaError._AUTHENTICATION,
        KafkaError.SASL_AUTHENTICATION_FAILED,
        KafkaError.ILLEGAL_SASL_STATE,
        KafkaError.UNSUPPORTED_SASL_MECHANISM,
    }
)
# What the operator checks, for each reason.
_HINTS: Final = {
    "tls": "check KAFKA_SECURITY_PROTOCOL and KAFKA_SSL_CA_LOCATION (and for mutual TLS "
    "KAFKA_SSL_CERTIFICATE_LOCATION, KAFKA_SSL_KEY_LOCATION)",
    "authentication": "check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and "
    "KAFKA_SASL_PASSWORD(_FILE)",
    "authorization": "the broker's ACLs refuse this user (the ones it needs: "
    "docs/operations.md#example-sasl-scram-over-tls-to-redpanda-cloud)",
    "unreachable": "check KAFKA_BOOTSTRAP_SERVERS; retrying until it answers",
}


@dataclass(frozen=True)
class Problem:
    """Why the broker does not serve us: `reason` one of tls, authentication, authorization,
    unreachable (bounded: it labels a metric), and librdkafka's own words."""

    reason: str
    detail: str

    @property
    def refusal(self) -> bool:
        """The broker answered and said no: a setting to fix, not an outage to wait out."""
        return self.reason != "unreachable"

    def __str__(self) -> str:
        return f"{self.detail} ({_HINTS[self.reason]})"


def problem_of(error: KafkaError) -> Problem:
    """Classifies a librdkafka error: authorization and authentication by code; TLS by code or,
    as librdkafka may report a failed handshake as a lost connection, by its words."""
    code, text = error.code(), error.str()
    if code in _AUTHORIZATION:
        return Problem("authorization", text)
    if code in _AUTHENTICATION or "SASL" in text:
        return Problem("authentication", text)
    lowered = text.lower()
    if code == KafkaError._SSL or "ssl" in lowered or "certificate" in lowered:
        return Problem("tls", text)
    return Problem("unreachable", text)


class BrokerCheck:
    """Asks the broker about `topics` (a Metadata request; the cluster's topics when none) with
    one long-lived client. Blocking: run it off the event loop, one call at a time."""

    def __init__(self, config: KafkaConfig, topics: Sequence[str]) -> None:
        self._config = config
        self._topics = sorted(set(topics))
        self._plaintext = config.security.tls is None
        self._admin: AdminClient | None = None
        self._error: KafkaError | None = None  # the last error callback
        self._failure: str | None = None  # the last connection failure the client logged

    def __call__(self) -> Problem | None:
        """None while the broker answers; else what is wrong."""
        admin = self._admin
        if admin is None:
            try:
                admin = self._admin = AdminClient(
                    client_settings(
                        self._config,
                        {"error_cb": self._on_error, "logger": self, "log_level": _LOG_LEVEL},
                    )
                )
            except KafkaException as exc:  # a setting librdkafka refuses (a bad key file)
                return problem_of(exc.args[0])
        error = _ask(admin, self._topics)
        admin.poll(0)  # serves the callbacks that say why a request failed
        reported, self._error = self._error, None
        failure, self._failure = self._failure, None
        if error is None:
            return None
        for candidate in (error, reported):
            if candidate is not None and problem_of(candidate).refusal:
                return problem_of(candidate)
        if self._plaintext and failure is not None and "APIVERSION_QUERY" in failure:
            return Problem(
                "tls",
                f"{failure}: the broker hung up before answering, as a TLS listener does to a "
                f"plaintext client (KAFKA_SECURITY_PROTOCOL={self._config.security.protocol})",
            )
        return problem_of(reported or error)

    def close(self) -> None:
        """Drops the client (librdkafka frees it when the last reference goes)."""
        self._admin = None

    def _on_error(self, error: KafkaError) -> None:
        self._error = error

    def log(self, _level: int, message: str, *args: object) -> None:
        """librdkafka's log lines (this object is the client's `logger`): keeps the last FAIL."""
        text = message % args if args else message
        if text.startswith("FAIL"):  # "FAIL [client] [thread]: <broker>: <what happened>"
            self._failure = text.split("]: ", 1)[-1]


def _ask(admin: AdminClient, topics: Sequence[str]) -> KafkaError | None:
    """Describes `topics` (or lists the cluster's, given none); the error that stopped it, if any.
    A topic that does not exist yet is no problem: the broker answered."""
    try:
        if not topics:
            admin.list_topics(timeout=TIMEOUT)
            return None
        futures: dict[str, Future[Any]] = admin.describe_topics(
            TopicCollection(list(topics)), request_timeout=TIMEOUT
        )
        for future in futures.values():
            try:
                future.result(timeout=TIMEOUT + 1)
            except KafkaException as exc:
                error: KafkaError = exc.args[0]
                if error.code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                    return error
    except KafkaException as exc:
        refused: KafkaError = exc.args[0]
        return refused
    except TimeoutError:
        return KafkaError(KafkaError._TIMED_OUT, "no answer about the topics")
    return None
