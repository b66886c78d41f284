"""How librdkafka's errors are read: each refusal names the settings an operator checks."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError

from todo_runtime.broker_check import problem_of

SASL_FAILED = (
    "sasl_ssl://kafka:9093/bootstrap: SASL authentication error: Authentication failed during "
    "authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512"
)
CA_FAILED = (
    "ssl://kafka:9093/bootstrap: SSL handshake failed: error:0A000086:SSL routines::"
    "certificate verify failed: broker certificate could not be verified"
)


@pytest.mark.parametrize(
    ("code", "text", "reason", "settings"),
    [
        (KafkaError._AUTHENTICATION, SASL_FAILED, "authentication", "KAFKA_SASL_USERNAME"),
        (KafkaError.SASL_AUTHENTICATION_FAILED, "bad", "authentication", "KAFKA_SASL_MECHANISM"),
        (KafkaError._SSL, CA_FAILED, "tls", "KAFKA_SSL_CA_LOCATION"),
        (KafkaError._TRANSPORT, CA_FAILED, "tls", "KAFKA_SECURITY_PROTOCOL"),
        (
            KafkaError.TOPIC_AUTHORIZATION_FAILED,
            "Topic authorization failed",
            "authorization",
            "ACLs",
        ),
        (
            KafkaError.GROUP_AUTHORIZATION_FAILED,
            "Group authorization failed",
            "authorization",
            "ACLs",
        ),
        (
            KafkaError.CLUSTER_AUTHORIZATION_FAILED,
            "idempotent write refused",
            "authorization",
            "ACLs",
        ),
        (
            KafkaError._ALL_BROKERS_DOWN,
            "1/1 brokers are down",
            "unreachable",
            "KAFKA_BOOTSTRAP_SERVERS",
        ),
        (KafkaError._TRANSPORT, "Connection refused", "unreachable", "KAFKA_BOOTSTRAP_SERVERS"),
    ],
)
def test_each_failure_is_read_for_what_it_is(
    code: int, text: str, reason: str, settings: str
) -> None:
    problem = problem_of(KafkaError(code, text))
    assert problem.reason == reason
    assert problem.refusal == (reason != "unreachable")
    assert text in str(problem)
    assert settings in str(problem)
