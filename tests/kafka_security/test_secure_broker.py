"""librdkafka against a real TLS and SASL endpoint: it works, fails for the right reason,
and recovers once the broker side is fixed, without recreating the client."""

from __future__ import annotations

import socket
import ssl
import threading
import uuid

import psutil
import pytest
import trustme
from confluent_kafka import KafkaError, KafkaException, Producer

from tests.kafka_security.conftest import Listener
from tests.support.kafka_security.clients import (
    FAST_RECONNECT,
    PASSWORD,
    USER,
    WAIT,
    ClientReport,
    Deliveries,
    client_config,
    consume,
    create_topic,
    poll_until,
    produce,
)
from tests.support.kafka_security.secure_broker import ClientFiles, SecureBroker
from tests.support.kafka_security.wire import frame, int16, int32, nullable_string

SCRAM_FAILED = (
    "SASL authentication error: Authentication failed during authentication due to invalid "
    "credentials with SASL mechanism SCRAM-SHA-512"
)
# Part of librdkafka's "SSL handshake failed: error:...:certificate verify failed: ...".
CERTIFICATE_VERIFY_FAILED = "certificate verify failed"
# How librdkafka logs a listener dropping its connection: a close, a reset or a TLS alert,
# whichever reaches the client first. Compared in lower case: a reset is logged as "Connection
# reset by peer" or "Disconnected: connection reset by peer", depending on where it is noticed.
REFUSALS = ("closed by peer", "connection reset by peer", "certificate required")


def new_topic() -> str:
    return f"secured-{uuid.uuid4().hex[:8]}"


def sasl_ssl(mechanism: str) -> Listener:
    return {"tls": True, "sasl_mechanisms": (mechanism,)}


@pytest.mark.parametrize(
    ("secure_broker", "mechanism"),
    [
        pytest.param(sasl_ssl("SCRAM-SHA-512"), "SCRAM-SHA-512", id="sasl-ssl-scram-sha-512"),
        pytest.param(sasl_ssl("SCRAM-SHA-256"), "SCRAM-SHA-256", id="sasl-ssl-scram-sha-256"),
        pytest.param(sasl_ssl("PLAIN"), "PLAIN", id="sasl-ssl-plain"),
        pytest.param(Listener(tls=True), None, id="ssl"),
        pytest.param(Listener(tls=True, mutual_tls=True), None, id="mutual-tls"),
    ],
    indirect=["secure_broker"],
)
def test_clients_create_produce_and_consume(
    secure_broker: SecureBroker, client_files: ClientFiles, mechanism: str | None
) -> None:
    config = client_config(secure_broker, client_files, mechanism=mechanism)
    topic = new_topic()
    values = [f"record-{n}".encode() for n in range(5)]

    create_topic(config, topic)
    deliveries = produce(config, topic, values)
    assert deliveries.failed == []
    assert deliveries.delivered == values
    assert consume(config, topic, len(values)) == values

    if mechanism is not None:  # admin, producer and consumer each logged in at least once
        assert secure_broker.authentications(USER) >= 3


@pytest.mark.parametrize(
    "secure_broker",
    [pytest.param(Listener(tls=True, mutual_tls=True), id="mutual-tls")],
    indirect=True,
)
def test_mutual_tls_refuses_a_client_without_a_certificate(
    secure_broker: SecureBroker, client_files: ClientFiles
) -> None:
    without_certificate = ClientFiles(client_files.ssl_ca_location, None, None)
    report = ClientReport()
    producer = Producer({**client_config(secure_broker, without_certificate), **report.config()})

    # TLS 1.3: the client's handshake completes, then the listener refuses the connection
    # before the first request is answered. The client sees the listener's alert, its close or
    # its reset, whichever arrives first: each is the same refusal.
    poll_until(producer, lambda: report.logged("in state APIVERSION_QUERY"))
    refusal = report.line("in state APIVERSION_QUERY")
    assert any(form in refusal.lower() for form in REFUSALS), refusal
    with pytest.raises(KafkaException) as raised:
        producer.list_topics(timeout=1)
    assert raised.value.args[0].code() == KafkaError._TRANSPORT


def test_a_wrong_password_fails_authentication(
    secure_broker: SecureBroker, client_files: ClientFiles
) -> None:
    report = ClientReport()
    config = client_config(
        secure_broker, client_files, mechanism="SCRAM-SHA-512", password="not-the-password"
    )
    producer = Producer({**config, **report.config()})

    poll_until(producer, lambda: report.count(KafkaError._AUTHENTICATION, SCRAM_FAILED) > 0)
    with pytest.raises(KafkaException) as raised:
        producer.list_topics(timeout=1)
    assert raised.value.args[0].code() == KafkaError._TRANSPORT
    assert secure_broker.authentications(USER) == 0


def test_an_unsupported_mechanism_is_refused_at_the_handshake(
    secure_broker: SecureBroker, client_files: ClientFiles
) -> None:
    report = ClientReport()
    config = client_config(secure_broker, client_files, mechanism="PLAIN")
    producer = Producer({**config, **report.config()})

    refused = "Unsupported SASL mechanism: broker's supported mechanisms: SCRAM-SHA-512"
    poll_until(producer, lambda: report.count(KafkaError._AUTHENTICATION, refused) > 0)
    assert secure_broker.authentications(USER) == 0


def test_a_client_trusting_another_ca_fails_certificate_verification(
    secure_broker: SecureBroker, client_files: ClientFiles
) -> None:
    other_ca = client_files.ssl_ca_location.with_name("other-ca.pem")
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    report = ClientReport()
    config = client_config(secure_broker, client_files, mechanism="SCRAM-SHA-512")
    producer = Producer({**config, "ssl.ca.location": str(other_ca), **report.config()})

    poll_until(producer, lambda: report.count(KafkaError._SSL, CERTIFICATE_VERIFY_FAILED) > 0)
    with pytest.raises(KafkaException) as raised:
        producer.list_topics(timeout=1)
    assert raised.value.args[0].code() == KafkaError._TRANSPORT
    assert secure_broker.authentications(USER) == 0


def test_a_plaintext_client_never_gets_metadata_from_the_tls_listener(
    secure_broker: SecureBroker, client_files: ClientFiles
) -> None:
    report = ClientReport()
    config = client_config(secure_broker, client_files, security_protocol="PLAINTEXT")
    producer = Producer({**config, **report.config()})

    # Its ApiVersions request is no TLS ClientHello: the listener closes the connection.
    poll_until(producer, lambda: report.logged("in state APIVERSION_QUERY"))
    refusal = report.line("in state APIVERSION_QUERY")
    assert any(form in refusal.lower() for form in REFUSALS), refusal
    with pytest.raises(KafkaException) as raised:
        producer.list_topics(timeout=1)
    assert raised.value.args[0].code() == KafkaError._TRANSPORT
    assert raised.value.args[0].str().startswith("Failed to get metadata")


def test_a_producer_with_a_new_password_recovers_once_the_broker_accepts_it(
    secure_broker: SecureBroker, client_files: ClientFiles
) -> None:
    """A password rotation where the client got the new password first."""
    config = client_config(secure_broker, client_files, mechanism="SCRAM-SHA-512")
    topic = new_topic()
    create_topic(config, topic)
    report = ClientReport()
    deliveries = Deliveries()
    producer = Producer(
        {
            **config,
            "sasl.password": "rotated",
            "enable.idempotence": True,
            **FAST_RECONNECT,
            **report.config(),
        }
    )
    producer.produce(topic, b"after the rotation", on_delivery=deliveries.report)

    poll_until(producer, lambda: report.count(KafkaError._AUTHENTICATION, SCRAM_FAILED) >= 2)
    assert deliveries.settled == 0
    logins_before = secure_broker.authentications(USER)

    secure_broker.set_password(USER, "rotated")
    poll_until(producer, lambda: deliveries.settled == 1)
    assert deliveries.failed == []
    assert deliveries.delivered == [b"after the rotation"]
    assert secure_broker.authentications(USER) > logins_before


def test_a_producer_recovers_once_the_broker_serves_a_trusted_certificate(
    secure_broker: SecureBroker, client_files: ClientFiles
) -> None:
    config = client_config(secure_broker, client_files, mechanism="SCRAM-SHA-512")
    topic = new_topic()
    create_topic(config, topic)
    secure_broker.use_certificate(trustme.CA())  # a certificate from a CA the client ignores
    report = ClientReport()
    deliveries = Deliveries()
    producer = Producer({**config, "enable.idempotence": True, **FAST_RECONNECT, **report.config()})
    producer.produce(topic, b"after the fix", on_delivery=deliveries.report)

    poll_until(producer, lambda: report.count(KafkaError._SSL, CERTIFICATE_VERIFY_FAILED) >= 2)
    assert deliveries.settled == 0
    logins_before = secure_broker.authentications(USER)

    secure_broker.use_certificate(secure_broker.ca)
    poll_until(producer, lambda: deliveries.settled == 1)
    assert deliveries.failed == []
    assert deliveries.delivered == [b"after the fix"]
    assert secure_broker.authentications(USER) > logins_before


def closed_by_peer(connection: socket.socket) -> bool:
    """Reads whatever is left; True once the peer closed the connection, within WAIT."""
    connection.settimeout(WAIT)
    try:
        while connection.recv(4096):
            pass
    except TimeoutError:
        return False
    except (ssl.SSLError, ConnectionError):
        return True
    return True


def test_stop_closes_every_connection_and_leaves_nothing_running() -> None:
    children_before = set(psutil.Process().children(recursive=True))
    broker = SecureBroker(tls=True, sasl_mechanisms=("SCRAM-SHA-512",), users={USER: PASSWORD})
    broker.start()
    host, port = broker.bootstrap_servers.split(":")
    assert set(psutil.Process().children(recursive=True)) > children_before  # its Tansu
    trusting = ssl.create_default_context()
    broker.ca.configure_trust(trusting)
    api_versions_v0 = frame(int16(18) + int16(0) + int32(1) + nullable_string("stop-test"))
    # One connection before its TLS handshake; one through it, waiting to authenticate, with
    # its connection to Tansu open.
    with (
        socket.create_connection((host, int(port))) as silent,
        trusting.wrap_socket(
            socket.create_connection((host, int(port))), server_hostname=host
        ) as waiting,
    ):
        waiting.sendall(api_versions_v0)
        assert waiting.recv(4096)
        broker.stop()
        assert closed_by_peer(silent)
        assert closed_by_peer(waiting)

    assert not [
        thread for thread in threading.enumerate() if thread.name.startswith("secure-broker")
    ]
    assert set(psutil.Process().children(recursive=True)) == children_before
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, int(port)), timeout=WAIT).close()
