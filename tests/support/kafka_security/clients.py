"""Plain confluent-kafka clients for the secured broker, configured by librdkafka's property
names, with what they report (error_cb and log lines) kept for the tests to read."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic  # confluent_kafka.admin re-exports it implicitly

from tests.support.kafka_security.secure_broker import ClientFiles, SecureBroker

USER = "todo"
PASSWORD = "secret"
WAIT = 30.0  # seconds any awaited condition may take: generous, conditions end waits early

# Retries a refused connection within half a second, not librdkafka's 10 s at most, so a
# recovery shows up quickly.
FAST_RECONNECT = {"reconnect.backoff.ms": 100, "reconnect.backoff.max.ms": 500}


def client_config(
    broker: SecureBroker,
    files: ClientFiles,
    *,
    mechanism: str | None = None,
    password: str = PASSWORD,
    security_protocol: str | None = None,
) -> dict[str, str]:
    """The properties a client of `broker` sets: TLS trust and certificate, SASL login."""
    protocol = security_protocol or broker.security_protocol
    config = {"bootstrap.servers": broker.bootstrap_servers, "security.protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        config["ssl.ca.location"] = str(files.ssl_ca_location)
        if files.ssl_certificate_location and files.ssl_key_location:
            config["ssl.certificate.location"] = str(files.ssl_certificate_location)
            config["ssl.key.location"] = str(files.ssl_key_location)
    if mechanism is not None:
        config |= {"sasl.mechanism": mechanism, "sasl.username": USER, "sasl.password": password}
    return config


class _Lines(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self._lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self._lines.append(record.getMessage())


class ClientReport:
    """A client's errors (error_cb) and log lines, both served by its poll()."""

    def __init__(self) -> None:
        self.errors: list[KafkaError] = []
        self.lines: list[str] = []
        self._logger = logging.Logger("librdkafka")  # not registered: nothing else sees it
        self._logger.addHandler(_Lines(self.lines))

    def config(self) -> dict[str, Any]:
        return {"error_cb": self.errors.append, "logger": self._logger}

    def count(self, code: int, text: str) -> int:
        """Errors with this code whose message contains `text`."""
        return sum(1 for error in self.errors if error.code() == code and text in error.str())

    def logged(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def line(self, text: str) -> str:
        """The first log line containing `text`."""
        return next(line for line in self.lines if text in line)


class Deliveries:
    """Delivery reports of one producer."""

    def __init__(self) -> None:
        self.delivered: list[bytes | None] = []
        self.failed: list[KafkaError] = []

    def report(self, error: KafkaError | None, message: Message) -> None:
        if error is None:
            self.delivered.append(message.value())
        else:
            self.failed.append(error)

    @property
    def settled(self) -> int:
        return len(self.delivered) + len(self.failed)


def poll_until(client: Producer | AdminClient, check: Callable[[], bool]) -> None:
    """Serves the client's callbacks until `check` holds; fails after WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {WAIT} s")
        client.poll(0.1)


def create_topic(config: dict[str, str], topic: str) -> None:
    settings: dict[str, str | int | float | bool] = dict(config)
    admin = AdminClient(settings)
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result(
        WAIT
    )


def produce(config: dict[str, str], topic: str, values: list[bytes]) -> Deliveries:
    """Sends `values` with an idempotent producer and waits for every delivery report."""
    deliveries = Deliveries()
    producer = Producer({**config, "enable.idempotence": True})
    for value in values:
        producer.produce(topic, value, on_delivery=deliveries.report)
    producer.flush(WAIT)
    return deliveries


def consume(config: dict[str, str], topic: str, count: int) -> list[bytes | None]:
    """Reads `count` records in a consumer group and commits them."""
    consumer = Consumer(
        {
            **config,
            "group.id": f"{topic}-readers",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            # Tansu makes group joins slow with librdkafka's defaults.
            "session.timeout.ms": 6000,
            "partition.assignment.strategy": "range",
        }
    )
    values: list[bytes | None] = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + WAIT
        while len(values) < count and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is None:
                continue
            error = message.error()
            if error is not None:
                raise KafkaException(error)
            values.append(message.value())
        if values:
            consumer.commit(asynchronous=False)
    finally:
        consumer.close()
    return values
