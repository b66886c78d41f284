"""charts/todo, checked without a cluster: rendered and linted by Helm's own library
(helm-python-sdk), every manifest validated against the Kubernetes schemas, and the
properties operators rely on asserted. The connections to Kafka and PostgreSQL are checked in
test_chart_connections.py, the Secrets and hooks in test_chart_secrets.py."""

from __future__ import annotations

import json
from typing import Any, Final

import kubernetes_validate
import pytest
from helm_python import chart as helm
from helm_python.errors import HelmRenderError, HelmValuesError

from tests.support.deploy.charts import (
    CHART,
    GRPC_SERVICES,
    KUBERNETES,
    REQUIRED,
    SECURED,
    Values,
    by_component,
    component_of,
    container_of,
    merged,
    of_kind,
    render,
    render_files,
    with_required,
)
from todo_cli import components

VALUE_SETS: Final[dict[str, Values]] = {
    "defaults": REQUIRED,
    "secured": SECURED,
    "everything on": with_required(
        {
            "ingress": {
                "enabled": True,
                "className": "nginx",
                "host": "todo.example.org",
                "tls": [{"hosts": ["todo.example.org"], "secretName": "todo-tls"}],
            },
            "auth": {"jwtAlgorithm": "RS256", "jwksUrl": "https://idp.example.org/jwks.json"},
            "secrets": {"existingSecret": "todo-keys"},
            "database": {"existingSecret": "todo-db", "existingSecretKey": "url"},
            "commonLabels": {"team": "tasks"},
            "imagePullSecrets": [{"name": "registry"}],
            "tracing": {"otlpEndpoint": "http://otel-collector.observability:4317"},
        }
    ),
    "ingress on": with_required({"ingress": {"enabled": True}}),
    "minimal": with_required(
        {
            "components": {
                name: {
                    "enabled": name in ("gateway", "tasks"),
                    "replicas": 1,
                    "autoscaling": {"enabled": False},
                    "podDisruptionBudget": {"enabled": False},
                }
                for name in components.BY_NAME
            },
            "networkPolicy": {"enabled": False},
            "topics": {"enabled": False},
        }
    ),
    "high availability": with_required(
        {
            "components": {
                name: {
                    "replicas": 3,
                    "autoscaling": {"enabled": True, "minReplicas": 3, "maxReplicas": 12},
                    "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
                }
                for name in components.BY_NAME
            },
            "kafka": {"topicPartitions": 24, "topicReplication": 3},
        }
    ),
}


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_the_chart_lints_renders_and_validates_against_kubernetes(value_set: str) -> None:
    values = VALUE_SETS[value_set]
    report = helm.lint(CHART, values, strict=True)
    problems = [m for m in report["messages"] if m["severity"] >= 2] + report["errors"]
    assert problems == []
    manifests = render(values)
    assert manifests
    for manifest in manifests:
        kubernetes_validate.validate(manifest, KUBERNETES, strict=True)


def test_every_component_todo_up_runs_has_a_deployment_and_a_service() -> None:
    manifests = render(REQUIRED)
    deployments = by_component(manifests, "Deployment")
    services = by_component(manifests, "Service")
    assert set(deployments) == set(components.BY_NAME)
    assert set(services) == set(components.BY_NAME)
    for name, deployment in deployments.items():
        assert container_of(deployment)["args"] == ["serve", name]  # the command `todo up` runs


def test_liveness_is_the_process_and_readiness_what_it_serves() -> None:
    """A database failover makes pods unready (out of the Service), it does not restart them;
    the startup probe outlasts a start that migrates after waiting for the database."""
    for name, deployment in by_component(render(REQUIRED), "Deployment").items():
        container = container_of(deployment)
        startup, liveness = container["startupProbe"], container["livenessProbe"]
        readiness = container["readinessProbe"]
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 240, name
        if name == "gateway":
            assert startup["httpGet"]["path"] == "/healthz"
            assert liveness["httpGet"]["path"] == "/healthz"
            assert readiness["httpGet"]["path"] == "/readyz"
            continue
        port = container["ports"][0]["containerPort"]
        for probe in (startup, liveness):
            assert probe["grpc"] == {"port": port, "service": "todo.liveness"}, name
        assert readiness["grpc"].get("service", "") == "", name  # the server's overall health
        assert readiness["grpc"]["port"] == port


def test_every_pod_runs_as_non_root_on_a_read_only_root_with_no_capabilities() -> None:
    manifests = render(SECURED)
    pods = [d["spec"]["template"]["spec"] for d in of_kind(manifests, "Deployment").values()]
    pods += [j["spec"]["template"]["spec"] for j in of_kind(manifests, "Job").values()]
    pods += [p["spec"] for p in of_kind(manifests, "Pod").values()]  # `helm test`'s
    assert pods
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"]["drop"] == ["ALL"]
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]


def test_only_callers_reach_a_service_grpc_port() -> None:
    policies = by_component(render(REQUIRED), "NetworkPolicy")
    assert set(policies) == set(components.BY_NAME)
    callers = {
        "tasks": {"gateway", "recur", "live"},
        "notify": {"gateway"},
        "recur": {"gateway"},
        "audit": {"gateway"},
        "live": {"gateway"},
    }
    scrape = {"ports": [{"port": 9090, "protocol": "TCP"}]}  # Prometheus, from anywhere
    for name in GRPC_SERVICES:
        # The `helm test` pod's own rule is checked in test_chart_lifecycle.py.
        rule, _helm_test, metrics = policies[name]["spec"]["ingress"]
        allowed = {
            peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
            for peer in rule["from"]
        }
        assert allowed == callers[name], name
        assert metrics == scrape
    gateway_rule, metrics = policies["gateway"]["spec"]["ingress"]
    assert "from" not in gateway_rule  # the front door: reachable from anywhere
    assert metrics == scrape


def test_every_pod_serves_metrics_on_its_own_port() -> None:
    manifests = render(REQUIRED)
    (config,) = of_kind(manifests, "ConfigMap").values()
    assert config["data"]["TODO_METRICS_PORT"] == "9090"
    for deployment in of_kind(manifests, "Deployment").values():
        template = deployment["spec"]["template"]
        assert template["metadata"]["annotations"]["prometheus.io/port"] == "9090"
        ports = {p["name"]: p["containerPort"] for p in container_of(deployment)["ports"]}
        assert ports["metrics"] == 9090
    off = render(with_required({"metrics": {"enabled": False}}))
    (config,) = of_kind(off, "ConfigMap").values()
    assert "TODO_METRICS_PORT" not in config["data"]


def test_logs_are_json_and_traces_go_only_to_a_given_endpoint() -> None:
    (config,) = of_kind(render(REQUIRED), "ConfigMap").values()
    assert config["data"]["TODO_LOG_FORMAT"] == "json"
    assert not [key for key in config["data"] if key.startswith("OTEL_")]  # tracing off
    collector = "http://otel-collector.observability:4317"
    traced = render(with_required({"tracing": {"otlpEndpoint": collector}}))
    (traced_config,) = of_kind(traced, "ConfigMap").values()
    assert traced_config["data"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == collector
    for deployment in of_kind(render(REQUIRED), "Deployment").values():  # every pod reads them
        assert {"configMapRef": {"name": "todo-config"}} in container_of(deployment)["envFrom"]


def test_autoscaling_and_disruption_budgets() -> None:
    manifests = render(REQUIRED)
    scaled = {
        m["spec"]["scaleTargetRef"]["name"]
        for m in of_kind(manifests, "HorizontalPodAutoscaler").values()
    }
    assert scaled == {"todo-gateway", "todo-tasks", "todo-live"}
    budgets = {component_of(m) for m in of_kind(manifests, "PodDisruptionBudget").values()}
    assert budgets == set(components.BY_NAME)
    deployments = by_component(manifests, "Deployment")
    for name in ("gateway", "tasks", "live"):
        assert "replicas" not in deployments[name]["spec"]  # the autoscaler owns it


def test_the_ingress_keeps_websockets_open() -> None:
    (ingress,) = of_kind(render(VALUE_SETS["ingress on"]), "Ingress").values()
    annotations = ingress["metadata"]["annotations"]
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "todo-gateway", "port": {"name": "http"}}
    assert of_kind(render(REQUIRED), "Ingress") == {}


def test_services_find_each_other_by_service_name() -> None:
    (config,) = of_kind(render(REQUIRED), "ConfigMap").values()
    data = config["data"]
    assert data["TODO_TASKS_ADDR"] == "todo-tasks:50051"
    assert data["TODO_LIVE_ADDR"] == "todo-live:50055"
    assert data["TODO_BIND_HOST"] == "0.0.0.0"


@pytest.mark.parametrize("value_set", ["defaults", "secured"])
def test_the_chart_leaves_home_to_the_image(value_set: str) -> None:
    manifests = render(VALUE_SETS[value_set])
    (config,) = of_kind(manifests, "ConfigMap").values()
    assert "HOME" not in config["data"]
    workloads = [*of_kind(manifests, "Deployment").values(), *of_kind(manifests, "Job").values()]
    for workload in workloads:
        assert "HOME" not in {e["name"] for e in container_of(workload)["env"]}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        pytest.param(
            with_required({"image": {"repository": ""}}),
            ["image.repository is required", "registry.example.com/todo"],
            id="no image",
        ),
        pytest.param(
            with_required({"kafka": {"bootstrapServers": ""}}),
            ["kafka.bootstrapServers is required", "redpanda.redpanda.svc.cluster.local:9093"],
            id="no brokers",
        ),
        pytest.param(
            with_required({"database": {"url": ""}}),
            ["a database is required", "database.url", "database.existingSecret"],
            id="no database",
        ),
        pytest.param(
            with_required({"kafka": {"sasl": {"mechanism": "SCRAM-SHA-512"}}}),
            ["kafka.sasl.existingSecret is required with kafka.sasl.mechanism=SCRAM-SHA-512"],
            id="a SASL mechanism without its Secret",
        ),
        pytest.param(
            with_required({"kafka": {"sasl": {"existingSecret": "todo-kafka-user"}}}),
            ["kafka.sasl.existingSecret is set but kafka.sasl.mechanism is empty"],
            id="a SASL Secret without a mechanism",
        ),
        pytest.param(
            with_required({"kafka": {"tls": {"caSecret": {"name": "redpanda-ca"}}}}),
            ["kafka.tls.caSecret.name is set but kafka.tls.enabled is false"],
            id="a Kafka CA without TLS",
        ),
        pytest.param(
            with_required({"kafka": {"tls": {"clientCertSecret": {"name": "todo-client"}}}}),
            ["kafka.tls.clientCertSecret.name is set but kafka.tls.enabled is false"],
            id="a client certificate without TLS",
        ),
        pytest.param(
            with_required({"database": {"tls": {"enabled": True}}}),
            ["database.tls.caSecret.name is required with database.tls.enabled"],
            id="database TLS without its CA",
        ),
    ],
)
def test_a_broken_install_fails_at_once_naming_the_value(
    values: Values, message: list[str]
) -> None:
    with pytest.raises(HelmRenderError) as refused:
        render_files(values)
    for part in message:
        assert part in str(refused.value)


def test_the_chart_has_no_default_for_what_only_the_operator_knows() -> None:
    defaults = helm.Chart.load(CHART).values
    assert defaults["image"]["repository"] == ""
    assert defaults["kafka"]["bootstrapServers"] == ""
    assert defaults["database"]["url"] == ""
    assert defaults["database"]["existingSecret"] == ""


@pytest.mark.parametrize(
    "values",
    [
        {"components": {"gateway": {"replica": 3}}},  # a typo
        {"replicas": 3},  # not a top-level setting
        {"auth": {"jwtAlgorithm": "none"}},
        {"auth": {"jwtAlgorithm": "RS256"}},  # RS256 without a JWKS URL
        {"database": {"url": "mysql://x"}},
        {"components": {"tasks": {"calls": ["billing"]}}},
        {"logFormat": "xml"},
        {"tracing": {"endpoint": "http://collector:4317"}},  # a typo
        {"kafka": {"sasl": {"mechanism": "GSSAPI", "existingSecret": "todo-kafka-user"}}},
        {"kafka": {"sasl": {"mechanism": "scram-sha-512", "existingSecret": "todo-kafka-user"}}},
        {"kafka": {"tls": {"enable": True}}},  # a typo
        {"kafka": {"tls": {"enabled": True, "caSecret": {"name": "ca", "key": ""}}}},
        {"database": {"tls": {"enabled": "yes"}}},
        {"database": {"tls": {"caSecret": {"secretName": "ca"}}}},  # a typo
    ],
)
def test_values_the_schema_refuses(values: Values) -> None:
    with pytest.raises(HelmValuesError):
        render_files(merged(REQUIRED, values))


def new_settings() -> list[tuple[str, dict[str, Any]]]:
    """Every setting under the blocks this chart added, with its path."""
    schema = json.loads((CHART / "values.schema.json").read_text())
    found: list[tuple[str, dict[str, Any]]] = []

    def walk(path: str, node: dict[str, Any]) -> None:
        found.append((path, node))
        for name, child in node.get("properties", {}).items():
            walk(f"{path}.{name}", child)

    kafka, database = schema["properties"]["kafka"], schema["properties"]["database"]
    walk("kafka.tls", kafka["properties"]["tls"])
    walk("kafka.sasl", kafka["properties"]["sasl"])
    walk("database.tls", database["properties"]["tls"])
    return found


def test_every_new_setting_is_described_and_misspellings_are_refused() -> None:
    settings = new_settings()
    assert len(settings) > 10
    for path, node in settings:
        assert node.get("description"), f"{path} has no description"
        if node.get("type") == "object":
            assert node.get("additionalProperties") is False, path
    mechanism = dict(settings)["kafka.sasl.mechanism"]
    assert mechanism["enum"] == ["", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
