"""The Kafka security settings: what librdkafka gets for each, and every setting that cannot work
refused at start with one line naming the variable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import certifi
import pytest

from todo_runtime.config import ConfigError, Env
from todo_runtime.kafka_settings import KafkaConfig, KafkaSecurity, client_settings
from todo_runtime.logs import BAD_SETTINGS_EXIT


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    """Files the settings may name: a CA, a client certificate and key, a password file."""
    paths = {}
    for name, text in [
        ("ca", "CA"),
        ("cert", "CERT"),
        ("key", "KEY"),
        ("password", "s3cret\n"),  # as `echo s3cret > file` writes it
        ("empty", ""),
    ]:
        path = tmp_path / name
        path.write_text(text)
        paths[name] = str(path)
    return paths


def security(**variables: str) -> dict[str, str]:
    return KafkaSecurity.from_env(Env(variables)).settings()


def test_plaintext_is_the_default_and_adds_nothing() -> None:
    assert security() == {"security.protocol": "PLAINTEXT"}


def test_tls_checks_the_broker_against_the_given_ca_and_its_host_name(
    files: dict[str, str],
) -> None:
    assert security(KAFKA_SECURITY_PROTOCOL="SSL", KAFKA_SSL_CA_LOCATION=files["ca"]) == {
        "security.protocol": "SSL",
        "ssl.ca.location": files["ca"],
        "ssl.endpoint.identification.algorithm": "https",
    }


def test_tls_without_a_ca_uses_the_public_roots() -> None:
    settings = security(KAFKA_SECURITY_PROTOCOL="ssl")
    assert settings["security.protocol"] == "SSL"
    assert settings["ssl.ca.location"] == certifi.where()


def test_mutual_tls_adds_the_client_certificate(files: dict[str, str]) -> None:
    settings = security(
        KAFKA_SECURITY_PROTOCOL="SSL",
        KAFKA_SSL_CA_LOCATION=files["ca"],
        KAFKA_SSL_CERTIFICATE_LOCATION=files["cert"],
        KAFKA_SSL_KEY_LOCATION=files["key"],
    )
    assert settings["ssl.certificate.location"] == files["cert"]
    assert settings["ssl.key.location"] == files["key"]


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "scram-sha-512"])
def test_sasl_over_tls_with_a_password_file(files: dict[str, str], mechanism: str) -> None:
    settings = security(
        KAFKA_SECURITY_PROTOCOL="SASL_SSL",
        KAFKA_SASL_MECHANISM=mechanism,
        KAFKA_SASL_USERNAME="todo",
        KAFKA_SASL_PASSWORD_FILE=files["password"],
    )
    assert settings == {
        "security.protocol": "SASL_SSL",
        "ssl.ca.location": certifi.where(),
        "ssl.endpoint.identification.algorithm": "https",
        "sasl.mechanism": mechanism.upper(),
        "sasl.username": "todo",
        "sasl.password": "s3cret",  # the file's trailing newline is not part of it
    }


def test_sasl_in_plaintext_with_the_password_itself() -> None:
    assert security(
        KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
        KAFKA_SASL_MECHANISM="PLAIN",
        KAFKA_SASL_USERNAME="todo",
        KAFKA_SASL_PASSWORD="pw",
    ) == {
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "PLAIN",
        "sasl.username": "todo",
        "sasl.password": "pw",
    }


def test_the_password_never_shows_in_a_repr() -> None:
    settings = KafkaSecurity.from_env(
        Env(
            {
                "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "KAFKA_SASL_MECHANISM": "PLAIN",
                "KAFKA_SASL_USERNAME": "todo",
                "KAFKA_SASL_PASSWORD": "hunter2-secret",
            }
        )
    )
    assert "hunter2-secret" not in repr(settings)


def test_every_client_starts_from_the_same_settings(files: dict[str, str]) -> None:
    env = Env(
        {
            "KAFKA_BOOTSTRAP_SERVERS": "kafka.example.org:9093",
            "KAFKA_SECURITY_PROTOCOL": "SSL",
            "KAFKA_SSL_CA_LOCATION": files["ca"],
        }
    )
    settings = client_settings(KafkaConfig.from_env(env), {"group.id": "g"})
    assert settings["bootstrap.servers"] == "kafka.example.org:9093"
    assert settings["ssl.ca.location"] == files["ca"]
    assert settings["group.id"] == "g"


REFUSED = [
    ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "KAFKA_SECURITY_PROTOCOL must be one of"),
    ({"KAFKA_SSL_CA_LOCATION": "{ca}"}, "KAFKA_SSL_CA_LOCATION is set, but"),
    (
        {"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SASL_USERNAME": "todo"},
        "KAFKA_SASL_USERNAME is set, but KAFKA_SECURITY_PROTOCOL=SSL does not use SASL",
    ),
    (
        {"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CA_LOCATION": "/no/such/ca.crt"},
        "KAFKA_SSL_CA_LOCATION: cannot read /no/such/ca.crt",
    ),
    (
        {"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CERTIFICATE_LOCATION": "{cert}"},
        "KAFKA_SSL_CERTIFICATE_LOCATION and KAFKA_SSL_KEY_LOCATION go together",
    ),
    (
        {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "todo"},
        "KAFKA_SASL_MECHANISM must be one of",
    ),
    (
        {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "GSSAPI"},
        "KAFKA_SASL_MECHANISM must be one of",
    ),
    (
        {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "PLAIN"},
        "KAFKA_SASL_USERNAME is required",
    ),
    (
        {
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_MECHANISM": "PLAIN",
            "KAFKA_SASL_USERNAME": "todo",
        },
        "KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE is required",
    ),
    (
        {
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_MECHANISM": "PLAIN",
            "KAFKA_SASL_USERNAME": "todo",
            "KAFKA_SASL_PASSWORD": "pw",
            "KAFKA_SASL_PASSWORD_FILE": "{password}",
        },
        "are both set",
    ),
    (
        {
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_MECHANISM": "PLAIN",
            "KAFKA_SASL_USERNAME": "todo",
            "KAFKA_SASL_PASSWORD_FILE": "/run/secrets/missing",
        },
        "KAFKA_SASL_PASSWORD_FILE: cannot read /run/secrets/missing",
    ),
    (
        {
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_MECHANISM": "PLAIN",
            "KAFKA_SASL_USERNAME": "todo",
            "KAFKA_SASL_PASSWORD_FILE": "{empty}",
        },
        "is empty",
    ),
]


@pytest.mark.parametrize(("variables", "message"), REFUSED)
def test_a_setting_that_cannot_work_is_refused_naming_the_variable(
    files: dict[str, str], variables: dict[str, str], message: str
) -> None:
    given = {name: value.format(**files) for name, value in variables.items()}
    with pytest.raises(ConfigError, match="environment variable") as refused:
        KafkaSecurity.from_env(Env(given))
    assert message in str(refused.value)


SASL_WITHOUT_USER = {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512"}


@pytest.mark.integration
@pytest.mark.parametrize(
    ("component", "variables", "message"),
    [
        ("svc_tasks", SASL_WITHOUT_USER, "environment variable KAFKA_SASL_USERNAME is required"),
        ("svc_live", SASL_WITHOUT_USER, "environment variable KAFKA_SASL_USERNAME is required"),
        ("gateway", {"TODO_JWT_ALGORITHM": "none"}, "TODO_JWT_ALGORITHM"),
        ("svc_notify", {"TODO_LOG_FORMAT": "xml"}, "environment variable TODO_LOG_FORMAT"),
    ],
)
def test_a_component_stops_at_start_with_one_line_naming_the_variable(
    component: str, variables: dict[str, str], message: str
) -> None:
    environment = {
        "PATH": "/usr/bin:/bin",
        "TODO_LOG_FORMAT": "text",
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
        "TODO_INTERNAL_SECRET": "0123456789abcdef-secret",
        "TODO_JWT_SECRET": "j" * 40,
        **variables,
    }
    finished = subprocess.run(
        [sys.executable, "-m", component],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == BAD_SETTINGS_EXIT, finished.stderr
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1, finished.stderr
    assert message in lines[0]
