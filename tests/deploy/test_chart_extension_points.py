"""charts/todo's extension points, as operators know them from Bitnami's charts (extraEnv,
extraVolumes, scheduling, service accounts, pod labels and annotations) and its ServiceMonitor:
rendered offline by Helm's own library and validated against the Kubernetes schemas (see
test_chart.py). How pods stop and `helm test` are in test_chart_lifecycle.py, the schema's
descriptions and the values README in test_chart_readme.py."""

from __future__ import annotations

import re
from typing import Final

import kubernetes_validate
import pytest
from helm_python import chart as helm
from helm_python.errors import HelmRenderError, HelmValuesError

from tests.support.deploy.charts import (
    CHART,
    KUBERNETES,
    REQUIRED,
    Manifest,
    Values,
    by_component,
    container_of,
    env_of,
    merged,
    of_kind,
    render,
    render_files,
    with_required,
)
from todo_cli import components

OTLP_KEY: Final = {
    "name": "OTEL_EXPORTER_OTLP_HEADERS",
    "valueFrom": {"secretKeyRef": {"name": "otel-collector", "key": "headers"}},
}
WEBHOOK_CA: Final[Values] = {
    "extraEnv": [{"name": "TODO_WEBHOOK_CA_FILE", "value": "/etc/todo/webhook-ca/ca.crt"}],
    "extraVolumes": [
        {
            "name": "webhook-ca",
            "secret": {"secretName": "webhook-ca", "items": [{"key": "ca.crt", "path": "ca.crt"}]},
        }
    ],
    "extraVolumeMounts": [
        {"name": "webhook-ca", "mountPath": "/etc/todo/webhook-ca", "readOnly": True}
    ],
}
EVERY_POD: Final[Values] = {  # the top level: every pod the chart runs
    "extraEnv": [OTLP_KEY],
    "extraEnvFrom": [{"configMapRef": {"name": "proxy-settings"}}],
    "podAnnotations": {"team": "tasks", "prometheus.io/path": "/metrics"},
    "podLabels": {"cost-centre": "platform", "tier": "backend"},
    "nodeSelector": {"kubernetes.io/os": "linux", "pool": "general"},
    "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "todo"}],
    "affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}},
    "priorityClassName": "todo-normal",
}
NOTIFY: Final[Values] = {  # one component's own, over the top level's
    **WEBHOOK_CA,
    "podLabels": {"tier": "delivery", "app.kubernetes.io/component": "hijacked"},
    "podAnnotations": {"team": "notifications"},
    "nodeSelector": {"pool": "egress"},
    "tolerations": [{"key": "egress", "operator": "Exists", "effect": "NoSchedule"}],
    "affinity": {},
    "priorityClassName": "todo-high",
    "topologySpreadConstraints": [
        {
            "maxSkew": 1,
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "DoNotSchedule",
        }
    ],
    "serviceAccount": {"annotations": {"iam.example.com/role": "notify-egress"}},
}
EXTENDED: Final = with_required({**EVERY_POD, "components": {"notify": NOTIFY}})


def pod_specs(manifests: list[Manifest]) -> dict[str, Manifest]:
    """Every pod the chart makes, by component (a Job's command, `test` for helm test's pod)."""
    found = {
        name: d["spec"]["template"] for name, d in by_component(manifests, "Deployment").items()
    }
    found |= {name: j["spec"]["template"] for name, j in by_component(manifests, "Job").items()}
    (test,) = of_kind(manifests, "Pod").values()
    found["test"] = test
    return found


def test_everything_set_lints_renders_and_validates_against_kubernetes() -> None:
    values = merged(EXTENDED, {"metrics": {"serviceMonitor": {"enabled": True}}})
    report = helm.lint(CHART, values, strict=True)
    assert [m for m in report["messages"] if m["severity"] >= 2] + report["errors"] == []
    manifests = render(values)
    for manifest in manifests:
        if manifest["kind"] != "ServiceMonitor":  # a CRD: checked in its own test
            kubernetes_validate.validate(manifest, KUBERNETES, strict=True)
    assert set(pod_specs(manifests)) == {*components.BY_NAME, "migrate", "topics", "test"}


def test_a_secret_key_reference_reaches_every_container() -> None:
    """An OTLP collector's API key, from a Secret, for every process the chart runs."""
    pods = pod_specs(render(EXTENDED))
    for name, pod in pods.items():
        [container] = pod["spec"]["containers"]
        assert OTLP_KEY in container["env"], name
        assert {"configMapRef": {"name": "proxy-settings"}} in container["envFrom"], name
    notify_env = pods["notify"]["spec"]["containers"][0]["env"]
    names = [variable["name"] for variable in notify_env]
    # The component's own come after the top level's, which come after the chart's.
    assert names[-2:] == ["OTEL_EXPORTER_OTLP_HEADERS", "TODO_WEBHOOK_CA_FILE"]
    assert names.index("DATABASE_URL") < names.index("OTEL_EXPORTER_OTLP_HEADERS")
    others = [pod for name, pod in pods.items() if name != "notify"]
    assert all("TODO_WEBHOOK_CA_FILE" not in str(pod) for pod in others)


def test_extra_volumes_and_their_mounts_reach_the_pod() -> None:
    """The CA of TODO_WEBHOOK_CA_FILE, from a Secret, mounted where the variable says."""
    notify = by_component(
        render(with_required({"components": {"notify": WEBHOOK_CA}})), "Deployment"
    )["notify"]
    pod = notify["spec"]["template"]["spec"]
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert volumes["webhook-ca"]["secret"]["secretName"] == "webhook-ca"
    assert "tmp" in volumes  # the chart's own stay
    mounts = {mount["name"]: mount for mount in container_of(notify)["volumeMounts"]}
    assert mounts["webhook-ca"]["mountPath"] == "/etc/todo/webhook-ca"
    assert mounts["webhook-ca"]["readOnly"] is True
    ca_file = env_of(notify)["TODO_WEBHOOK_CA_FILE"]
    assert ca_file == f"{mounts['webhook-ca']['mountPath']}/ca.crt"
    kubernetes_validate.validate(notify, KUBERNETES, strict=True)


def test_every_component_spreads_softly_over_nodes_by_default() -> None:
    for name, deployment in by_component(render(REQUIRED), "Deployment").items():
        selector = deployment["spec"]["selector"]["matchLabels"]
        [spread] = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
        assert spread == {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway",  # soft: a one-node cluster still schedules
            "labelSelector": {"matchLabels": selector},
        }, name
        assert selector["app.kubernetes.io/component"] == name
    none = render(with_required({"topologySpreadConstraints": []}))
    for deployment in of_kind(none, "Deployment").values():
        assert "topologySpreadConstraints" not in deployment["spec"]["template"]["spec"]


def test_a_component_s_own_settings_extend_or_replace_the_top_level_s() -> None:
    """Lists add up, maps merge (the component's keys win), anything else is replaced; the
    selector's labels stay the chart's."""
    pods = pod_specs(render(EXTENDED))
    notify, tasks = pods["notify"], pods["tasks"]
    labels = notify["metadata"]["labels"]
    assert labels["app.kubernetes.io/component"] == "notify"  # never the podLabels'
    assert (labels["tier"], labels["cost-centre"]) == ("delivery", "platform")
    assert (tasks["metadata"]["labels"]["tier"], tasks["metadata"]["labels"]["cost-centre"]) == (
        "backend",
        "platform",
    )
    annotations = notify["metadata"]["annotations"]
    assert annotations["team"] == "notifications"
    assert tasks["metadata"]["annotations"]["team"] == "tasks"
    assert "checksum/config" in annotations  # the chart's own stay
    spec, tasks_spec = notify["spec"], tasks["spec"]
    assert spec["nodeSelector"] == {"kubernetes.io/os": "linux", "pool": "egress"}
    assert tasks_spec["nodeSelector"] == EVERY_POD["nodeSelector"]
    assert spec["tolerations"] == EVERY_POD["tolerations"] + NOTIFY["tolerations"]
    assert tasks_spec["tolerations"] == EVERY_POD["tolerations"]
    assert "affinity" not in spec  # set to {}: none, whatever the top level says
    assert tasks_spec["affinity"] == EVERY_POD["affinity"]
    assert (spec["priorityClassName"], tasks_spec["priorityClassName"]) == (
        "todo-high",
        "todo-normal",
    )
    [zones] = spec["topologySpreadConstraints"]
    assert zones["topologyKey"] == "topology.kubernetes.io/zone"
    assert zones["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == "notify"
    [hosts] = tasks_spec["topologySpreadConstraints"]
    assert hosts["whenUnsatisfiable"] == "ScheduleAnyway"
    for name in ("migrate", "topics", "test"):  # the top level's reach every other pod too
        pod = pods[name]
        assert pod["metadata"]["labels"]["app.kubernetes.io/component"] == name
        assert pod["metadata"]["labels"]["tier"] == "backend"
        assert pod["metadata"]["annotations"]["team"] == "tasks"
        assert pod["spec"]["nodeSelector"] == EVERY_POD["nodeSelector"]
        assert pod["spec"]["priorityClassName"] == "todo-normal"
        assert "topologySpreadConstraints" not in pod["spec"]


def test_a_hook_job_takes_settings_of_its_own() -> None:
    own = {"extraEnv": [{"name": "TODO_LOG_LEVEL", "value": "DEBUG"}], "podLabels": {"step": "1"}}
    jobs = by_component(render(with_required({"migrations": own})), "Job")
    assert env_of(jobs["migrate"])["TODO_LOG_LEVEL"] == "DEBUG"
    assert jobs["migrate"]["spec"]["template"]["metadata"]["labels"]["step"] == "1"
    assert "TODO_LOG_LEVEL" not in env_of(jobs["topics"])


def test_pods_run_as_the_release_s_account_with_no_token() -> None:
    manifests = render(REQUIRED)
    accounts = of_kind(manifests, "ServiceAccount")
    assert set(accounts) == {"todo"}
    assert accounts["todo"]["automountServiceAccountToken"] is False
    pods = pod_specs(manifests)
    for name, pod in pods.items():
        assert pod["spec"]["automountServiceAccountToken"] is False, name
        if name in ("migrate", "topics"):  # a pre-upgrade hook runs before the account exists
            assert "serviceAccountName" not in pod["spec"], name
        else:
            assert pod["spec"]["serviceAccountName"] == "todo", name


def test_a_component_may_have_an_account_of_its_own() -> None:
    manifests = render(EXTENDED)
    accounts = of_kind(manifests, "ServiceAccount")
    assert set(accounts) == {"todo", "todo-notify"}
    assert accounts["todo-notify"]["metadata"]["annotations"] == {
        "iam.example.com/role": "notify-egress"
    }
    deployments = by_component(manifests, "Deployment")
    assert deployments["notify"]["spec"]["template"]["spec"]["serviceAccountName"] == "todo-notify"
    assert deployments["tasks"]["spec"]["template"]["spec"]["serviceAccountName"] == "todo"


def test_an_account_of_the_operator_s_is_used_and_not_created() -> None:
    values = with_required({"serviceAccount": {"create": False, "name": "todo-runner"}})
    manifests = render(values)
    assert of_kind(manifests, "ServiceAccount") == {}
    for name, pod in pod_specs(manifests).items():  # it exists before any hook: Jobs use it too
        assert pod["spec"]["serviceAccountName"] == "todo-runner", name
    refused = with_required({"components": {"tasks": {"serviceAccount": {"create": False}}}})
    with pytest.raises(
        HelmRenderError, match=r"components\.tasks\.serviceAccount\.name is required"
    ):
        render_files(refused)


# monitoring.coreos.com/v1 ServiceMonitor, as its CRD types the fields the chart sets
# (kubernetes-validate holds no CRDs): the keys each object takes, and prometheus-operator's
# Duration pattern.
DURATION: Final = re.compile(
    r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"
)
SPEC_KEYS: Final = {"selector", "namespaceSelector", "endpoints", "jobLabel", "targetLabels"}
ENDPOINT_KEYS: Final = {"port", "path", "interval", "scrapeTimeout", "scheme", "relabelings"}


def check_service_monitor(monitor: Manifest) -> None:
    assert (monitor["apiVersion"], monitor["kind"]) == (
        "monitoring.coreos.com/v1",
        "ServiceMonitor",
    )
    assert monitor["metadata"]["name"]
    spec = monitor["spec"]
    assert set(spec) <= SPEC_KEYS
    assert all(isinstance(v, str) for v in spec["selector"]["matchLabels"].values())
    assert set(spec["selector"]) == {"matchLabels"}
    assert all(isinstance(name, str) for name in spec["namespaceSelector"]["matchNames"])
    assert spec["endpoints"]
    for endpoint in spec["endpoints"]:
        assert set(endpoint) <= ENDPOINT_KEYS
        assert isinstance(endpoint["port"], str)  # a Service port's name
        assert endpoint["path"].startswith("/")
        for key in ("interval", "scrapeTimeout"):
            if key in endpoint:
                assert DURATION.match(endpoint[key]), endpoint[key]


def test_the_service_monitor_renders_only_when_enabled_and_scrapes_every_component() -> None:
    assert of_kind(render(REQUIRED), "ServiceMonitor") == {}
    values = with_required(
        {
            "metrics": {
                "serviceMonitor": {
                    "enabled": True,
                    "interval": "15s",
                    "scrapeTimeout": "10s",
                    "labels": {"release": "kube-prometheus-stack"},
                }
            }
        }
    )
    manifests = render(values)
    (monitor,) = of_kind(manifests, "ServiceMonitor").values()
    check_service_monitor(monitor)
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    [endpoint] = monitor["spec"]["endpoints"]
    assert endpoint == {
        "port": "metrics",
        "path": "/metrics",
        "interval": "15s",
        "scrapeTimeout": "10s",
    }
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["todo"]}
    selector = monitor["spec"]["selector"]["matchLabels"]
    services = by_component(manifests, "Service")
    assert set(services) == set(components.BY_NAME)
    deployments = by_component(manifests, "Deployment")
    for name, service in services.items():  # each Service it selects names the pods' port
        assert selector.items() <= service["metadata"]["labels"].items(), name
        [port] = [p for p in service["spec"]["ports"] if p["name"] == endpoint["port"]]
        pod_ports = {
            p["name"]: p["containerPort"] for p in container_of(deployments[name])["ports"]
        }
        assert port["port"] == pod_ports["metrics"] == 9090, name
    off = with_required({"metrics": {"enabled": False, "serviceMonitor": {"enabled": True}}})
    with pytest.raises(
        HelmRenderError, match=r"metrics\.serviceMonitor\.enabled needs metrics\.enabled"
    ):
        render_files(off)


@pytest.mark.parametrize(
    "values",
    [
        {"extraEnv": "OTEL_EXPORTER_OTLP_HEADERS=x"},  # a string, not EnvVars
        {"extraEnv": [{"value": "x"}]},  # no name
        {"components": {"tasks": {"extraEnv": {"name": "A", "value": "b"}}}},  # one, not a list
        {"extraEnvFrom": {"secretRef": {"name": "s"}}},
        {"extraVolumes": [{"secret": {"secretName": "s"}}]},  # no name
        {"components": {"notify": {"extraVolumeMounts": [{"name": "ca"}]}}},  # no mountPath
        {"podLabels": {"tier": 1}},
        {"components": {"gateway": {"podAnnotations": "team=tasks"}}},
        {"nodeSelector": ["pool=general"]},
        {"tolerations": {"key": "dedicated"}},
        {"affinity": []},
        {
            "topologySpreadConstraints": [
                {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "Maybe"}
            ]
        },
        {"priorityClassName": 5},
        {"serviceAccount": {"create": "yes"}},
        {"serviceAccount": {"automount": False}},  # a typo
        {"components": {"live": {"serviceAccount": {"anotations": {}}}}},  # a typo
        {"migrations": {"serviceAccount": "runner"}},  # a Job takes serviceAccountName
        {"preStopSleepSeconds": -1},
        {"terminationGracePeriodSeconds": "30s"},
        {"metrics": {"serviceMonitor": {"enabled": True, "interval": "30"}}},  # no unit
        {"metrics": {"serviceMonitor": {"enable": True}}},  # a typo
        {"tests": {"enabled": "true"}},
        {"tests": {"checkTokenSecret": {"secretName": "t"}}},  # a typo
    ],
)
def test_the_schema_refuses_a_wrong_extension_value(values: Values) -> None:
    with pytest.raises(HelmValuesError):
        render_files(merged(REQUIRED, values))
