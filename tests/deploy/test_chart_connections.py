"""How the pods of charts/todo reach Kafka and PostgreSQL: TLS, SASL and the files they read,
rendered offline by Helm's own library (see test_chart.py). The application stops at start on a
TLS or SASL variable its protocol does not use, so the absent ones are asserted too."""

from __future__ import annotations

from typing import Final

import pytest

from tests.support.deploy.charts import (
    REQUIRED,
    SECURED,
    Manifest,
    Values,
    by_component,
    env_of,
    render,
    secret_files,
    with_required,
)
from todo_cli import components

# What ci/secured-values.yaml wires: each variable naming a file, that file's path, and the
# Secret and key it is projected from.
KAFKA_FILES: Final = {
    "KAFKA_SSL_CA_LOCATION": ("/etc/todo/kafka/ca/ca.crt", "redpanda-ca", "ca.crt"),
    "KAFKA_SSL_CERTIFICATE_LOCATION": (
        "/etc/todo/kafka/client/tls.crt",
        "todo-kafka-client",
        "tls.crt",
    ),
    "KAFKA_SSL_KEY_LOCATION": ("/etc/todo/kafka/client/tls.key", "todo-kafka-client", "tls.key"),
    "KAFKA_SASL_PASSWORD_FILE": ("/etc/todo/kafka/sasl/password", "todo-kafka-user", "password"),
}
DATABASE_FILES: Final = {
    "PGSSLROOTCERT": ("/etc/todo/database/ca/ca.crt", "todo-db-ca", "ca.crt"),
}
KAFKA_VALUES: Final = {
    "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    "KAFKA_SASL_USERNAME": {"secretKeyRef": {"name": "todo-kafka-user", "key": "username"}},
}
DATABASE_VALUES: Final = {
    "DATABASE_URL": {"secretKeyRef": {"name": "todo-db-app", "key": "uri"}},
    "PGSSLMODE": "verify-full",
}
WORKLOADS: Final = [
    *(("Deployment", name, True, True) for name in sorted(components.BY_NAME)),
    ("Job", "topics", True, False),  # `todo topics` talks to Kafka only
    ("Job", "migrate", False, True),  # `todo migrate` to PostgreSQL only
]


def workload(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    return by_component(manifests, kind)[name]


@pytest.mark.parametrize(
    ("kind", "name", "kafka", "database"),
    WORKLOADS,
    ids=[f"{kind} {name}" for kind, name, _, _ in WORKLOADS],
)
def test_the_secured_pods_read_their_keys_from_read_only_mounts(
    kind: str, name: str, kafka: bool, database: bool
) -> None:
    pod = workload(render(SECURED), kind, name)
    env, files = env_of(pod), secret_files(pod)
    expected_files = {**(KAFKA_FILES if kafka else {}), **(DATABASE_FILES if database else {})}
    for variable, (path, secret, key) in expected_files.items():
        assert env[variable] == path, variable
        assert files[path] == (secret, key), variable
    assert set(files) == {path for path, _, _ in expected_files.values()}  # nothing else
    for variable, value in {
        **(KAFKA_VALUES if kafka else {}),
        **(DATABASE_VALUES if database else {}),
    }.items():
        assert env[variable] == value, variable
    kafka_settings = {v for v in env if v.startswith("KAFKA_") and v != "KAFKA_BOOTSTRAP_SERVERS"}
    assert kafka_settings == (set(KAFKA_FILES) | set(KAFKA_VALUES) if kafka else set())
    assert ("DATABASE_URL" in env) is database
    assert "KAFKA_SASL_PASSWORD" not in env  # only ever the file

    spec = pod["spec"]["template"]["spec"]
    secret_volumes = {v["name"]: v["secret"] for v in spec["volumes"] if "secret" in v}
    for volume in secret_volumes.values():
        assert volume["defaultMode"] == 0o440
    for mount in container_of_pod(spec)["volumeMounts"]:
        if mount["name"] in secret_volumes:
            assert mount["readOnly"] is True, mount


def container_of_pod(spec: Manifest) -> Manifest:
    [container] = spec["containers"]
    assert isinstance(container, dict)
    return container


@pytest.mark.parametrize(
    ("kafka", "protocol", "variables"),
    [
        pytest.param({}, "PLAINTEXT", set(), id="plaintext"),
        pytest.param({"tls": {"enabled": True}}, "SSL", set(), id="TLS, public roots"),
        pytest.param(
            {"tls": {"enabled": True, "caSecret": {"name": "redpanda-default-cert"}}},
            "SSL",
            {"KAFKA_SSL_CA_LOCATION"},
            id="TLS, private CA",
        ),
        pytest.param(
            {
                "tls": {
                    "enabled": True,
                    "caSecret": {"name": "kafka-ca"},
                    "clientCertSecret": {"name": "todo-client"},
                }
            },
            "SSL",
            {"KAFKA_SSL_CA_LOCATION", "KAFKA_SSL_CERTIFICATE_LOCATION", "KAFKA_SSL_KEY_LOCATION"},
            id="mutual TLS",
        ),
        pytest.param(
            {"sasl": {"mechanism": "SCRAM-SHA-256", "existingSecret": "todo-kafka-user"}},
            "SASL_PLAINTEXT",
            {"KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD_FILE"},
            id="SASL without TLS",
        ),
        pytest.param(
            {
                "tls": {"enabled": True},
                "sasl": {"mechanism": "PLAIN", "existingSecret": "todo-kafka-user"},
            },
            "SASL_SSL",
            {"KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD_FILE"},
            id="SASL over TLS, public roots",
        ),
    ],
)
def test_the_kafka_protocol_follows_tls_and_sasl(
    kafka: Values, protocol: str, variables: set[str]
) -> None:
    manifests = render(with_required({"kafka": kafka}))
    pods = [*by_component(manifests, "Deployment").values(), workload(manifests, "Job", "topics")]
    for pod in pods:
        env = env_of(pod)
        assert env["KAFKA_SECURITY_PROTOCOL"] == protocol
        settings = {v for v in env if v.startswith("KAFKA_SSL_") or v.startswith("KAFKA_SASL_")}
        assert settings == variables
        named_files = {env[v] for v in variables if v.endswith(("_LOCATION", "_FILE"))}
        assert {p for p in secret_files(pod) if p.startswith("/etc/todo/kafka/")} == named_files


def test_without_database_tls_nothing_asks_for_it() -> None:
    manifests = render(REQUIRED)
    pods = [*by_component(manifests, "Deployment").values(), workload(manifests, "Job", "migrate")]
    for pod in pods:
        env = env_of(pod)
        assert env["DATABASE_URL"] == {
            "secretKeyRef": {"name": "todo-database", "key": "DATABASE_URL"}
        }
        assert not [v for v in env if v.startswith("PGSSL")]
        assert secret_files(pod) == {}
