"""charts/todo, checked without a cluster: rendered and linted by Helm's own library
(helm-python-sdk), every manifest validated against the Kubernetes schemas, and the
properties operators rely on asserted."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import kubernetes_validate
import pytest
import yaml
from helm_python import chart as helm
from helm_python.errors import HelmError

from todo_cli import components

CHART: Final = Path(__file__).resolve().parents[2] / "charts" / "todo"
KUBERNETES: Final = "1.30.0"
GRPC_SERVICES: Final = sorted(name for name in components.BY_NAME if name != "gateway")
Manifest = dict[str, Any]

VALUE_SETS: Final[dict[str, dict[str, Any]]] = {
    "defaults": {},
    "everything on": {
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
    },
    "ingress on": {"ingress": {"enabled": True}},
    "minimal": {
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
    },
    "high availability": {
        "components": {
            name: {
                "replicas": 3,
                "autoscaling": {"enabled": True, "minReplicas": 3, "maxReplicas": 12},
                "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
            }
            for name in components.BY_NAME
        },
        "kafka": {"topicPartitions": 24, "topicReplication": 3},
    },
}


def render(values: dict[str, Any]) -> list[Manifest]:
    """Every object the chart makes with `values`, as an install would."""
    rendered = helm.Chart.load(CHART).render(values, name="todo", namespace="todo", is_install=True)
    manifests = []
    for path, text in rendered.items():
        if path.endswith(".txt"):
            continue
        manifests += [doc for doc in yaml.safe_load_all(text) if doc]
    return manifests


def of_kind(manifests: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def component_of(manifest: Manifest) -> str:
    return str(manifest["metadata"]["labels"]["app.kubernetes.io/component"])


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
    manifests = render({})
    deployments = {component_of(d): d for d in of_kind(manifests, "Deployment").values()}
    services = {component_of(s): s for s in of_kind(manifests, "Service").values()}
    assert set(deployments) == set(components.BY_NAME)
    assert set(services) == set(components.BY_NAME)
    for name, deployment in deployments.items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == ["serve", name]  # the command `todo up` runs


def test_probes_are_native_grpc_on_services_and_http_on_the_gateway() -> None:
    deployments = {component_of(d): d for d in of_kind(render({}), "Deployment").values()}
    for name, deployment in deployments.items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        port = container["ports"][0]["containerPort"]
        if name == "gateway":
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        else:
            assert container["readinessProbe"]["grpc"]["port"] == port
            assert container["livenessProbe"]["grpc"]["port"] == port


def test_every_pod_runs_as_non_root_on_a_read_only_root_with_no_capabilities() -> None:
    manifests = render({})
    pods = [d["spec"]["template"]["spec"] for d in of_kind(manifests, "Deployment").values()]
    pods += [j["spec"]["template"]["spec"] for j in of_kind(manifests, "Job").values()]
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
    policies = {component_of(p): p for p in of_kind(render({}), "NetworkPolicy").values()}
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
        rule, metrics = policies[name]["spec"]["ingress"]
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
    manifests = render({})
    (config,) = of_kind(manifests, "ConfigMap").values()
    assert config["data"]["TODO_METRICS_PORT"] == "9090"
    for deployment in of_kind(manifests, "Deployment").values():
        template = deployment["spec"]["template"]
        assert template["metadata"]["annotations"]["prometheus.io/port"] == "9090"
        ports = {p["name"]: p["containerPort"] for p in template["spec"]["containers"][0]["ports"]}
        assert ports["metrics"] == 9090
    off = render({"metrics": {"enabled": False}})
    (config,) = of_kind(off, "ConfigMap").values()
    assert "TODO_METRICS_PORT" not in config["data"]


def test_logs_are_json_and_traces_go_only_to_a_given_endpoint() -> None:
    (config,) = of_kind(render({}), "ConfigMap").values()
    assert config["data"]["TODO_LOG_FORMAT"] == "json"
    assert not [key for key in config["data"] if key.startswith("OTEL_")]  # tracing off
    collector = "http://otel-collector.observability:4317"
    (traced,) = of_kind(render({"tracing": {"otlpEndpoint": collector}}), "ConfigMap").values()
    assert traced["data"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == collector
    for deployment in of_kind(render({}), "Deployment").values():  # every pod reads them
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        assert {"configMapRef": {"name": "todo-config"}} in container["envFrom"]


def test_autoscaling_disruption_budgets_and_hook_jobs() -> None:
    manifests = render({})
    scaled = {
        m["spec"]["scaleTargetRef"]["name"]
        for m in of_kind(manifests, "HorizontalPodAutoscaler").values()
    }
    assert scaled == {"todo-gateway", "todo-tasks", "todo-live"}
    budgets = {component_of(m) for m in of_kind(manifests, "PodDisruptionBudget").values()}
    assert budgets == set(components.BY_NAME)
    deployments = {component_of(d): d for d in of_kind(manifests, "Deployment").values()}
    for name in ("gateway", "tasks", "live"):
        assert "replicas" not in deployments[name]["spec"]  # the autoscaler owns it
    jobs = of_kind(manifests, "Job")
    assert {j["spec"]["template"]["spec"]["containers"][0]["args"][0] for j in jobs.values()} == {
        "migrate",
        "topics",
    }
    for job in jobs.values():
        assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    # The migration Job's database URL exists before the release's own objects do.
    (database,) = (
        s for s in of_kind(manifests, "Secret").values() if s["metadata"]["name"] == "todo-database"
    )
    assert database["metadata"]["annotations"]["helm.sh/hook-weight"] == "-10"


def test_the_ingress_keeps_websockets_open() -> None:
    (ingress,) = of_kind(render(VALUE_SETS["ingress on"]), "Ingress").values()
    annotations = ingress["metadata"]["annotations"]
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "todo-gateway", "port": {"name": "http"}}
    assert of_kind(render({}), "Ingress") == {}


def test_services_find_each_other_by_service_name() -> None:
    (config,) = of_kind(render({}), "ConfigMap").values()
    data = config["data"]
    assert data["TODO_TASKS_ADDR"] == "todo-tasks:50051"
    assert data["TODO_LIVE_ADDR"] == "todo-live:50055"
    assert data["TODO_BIND_HOST"] == "0.0.0.0"


def test_generated_secrets_are_set_and_given_ones_win() -> None:
    secret = of_kind(render({}), "Secret")["todo-secrets"]
    assert set(secret["data"]) == {
        "TODO_JWT_SECRET",
        "TODO_INTERNAL_SECRET",
        "TODO_AUDIT_SIGNING_KEY",
    }
    given = render({"auth": {"jwtSecret": "j" * 40}, "secrets": {"internalSecret": "i" * 40}})
    data = of_kind(given, "Secret")["todo-secrets"]["data"]
    assert data["TODO_JWT_SECRET"] == "ampq" * 13 + "ag=="  # base64 of 40 "j"
    with_existing = render({"secrets": {"existingSecret": "mine"}})
    assert "todo-secrets" not in of_kind(with_existing, "Secret")


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
    ],
)
def test_values_the_schema_refuses(values: dict[str, Any]) -> None:
    with pytest.raises(HelmError):
        helm.Chart.load(CHART).render(values, name="todo", namespace="todo", is_install=True)
