"""How a release of charts/todo stops and is tested: each pod pauses before SIGTERM for its
endpoints to go, with time left to drain, and `helm test` runs `todo check` in a pod the
NetworkPolicies admit to exactly the ports it checks. Rendered offline by Helm's own library
(see test_chart.py)."""

from __future__ import annotations

import pytest
from helm_python.errors import HelmRenderError

from tests.support.deploy.charts import (
    GRPC_SERVICES,
    REQUIRED,
    SECURED,
    Manifest,
    by_component,
    container_of,
    of_kind,
    render,
    render_files,
    with_required,
)


def test_pods_pause_before_they_stop_and_have_time_to_drain() -> None:
    """The endpoints go first (the preStop sleep), then SIGTERM: a service drains its calls for
    up to 5 s (TODO_GRPC_GRACE_SECONDS) and flushes its producer, the gateway up to 10 s."""
    for name, deployment in by_component(render(REQUIRED), "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        command = container_of(deployment)["lifecycle"]["preStop"]["exec"]["command"]
        assert command == ["sleep", "5"], name  # coreutils' sleep, in the python:slim image
        assert pod["terminationGracePeriodSeconds"] >= 5 + 10 + 5, name
    longer = with_required(
        {
            "preStopSleepSeconds": 10,
            "components": {"gateway": {"terminationGracePeriodSeconds": 60}},
        }
    )
    deployments = by_component(render(longer), "Deployment")
    assert container_of(deployments["tasks"])["lifecycle"]["preStop"]["exec"]["command"] == [
        "sleep",
        "10",
    ]
    assert deployments["gateway"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 60
    assert deployments["tasks"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 30
    none = by_component(render(with_required({"preStopSleepSeconds": 0})), "Deployment")
    assert all("lifecycle" not in container_of(d) for d in none.values())
    too_short = with_required({"components": {"tasks": {"terminationGracePeriodSeconds": 5}}})
    with pytest.raises(HelmRenderError, match="tasks: terminationGracePeriodSeconds"):
        render_files(too_short)


def test_the_helm_test_pod_checks_the_release_with_what_the_gateway_has() -> None:
    manifests = render(SECURED)
    (pod,) = of_kind(manifests, "Pod").values()
    annotations = pod["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "test"
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
    assert pod["metadata"]["labels"]["app.kubernetes.io/component"] == "test"
    [container] = pod["spec"]["containers"]
    gateway = container_of(by_component(manifests, "Deployment")["gateway"])
    assert container["args"] == ["check"]
    assert container["image"] == gateway["image"]
    assert pod["spec"]["restartPolicy"] == "Never"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    env = {variable["name"]: variable for variable in container["env"]}
    assert env["TODO_GATEWAY_URL"]["value"] == "http://todo-gateway:8000"
    secret = {"secretRef": {"name": "todo-keys"}}
    assert secret in gateway["envFrom"]
    for key in ("TODO_JWT_SECRET", "TODO_INTERNAL_SECRET"):  # the gateway's Secret, not all of it
        assert env[key]["valueFrom"] == {"secretKeyRef": {"name": "todo-keys", "key": key}}
    assert container["envFrom"] == [e for e in gateway["envFrom"] if e != secret]
    (config,) = of_kind(manifests, "ConfigMap").values()
    for name in GRPC_SERVICES:  # each service's gRPC address, from the gateway's ConfigMap
        assert f"TODO_{name.upper()}_ADDR" in config["data"]
    # Nothing the gateway is not given (todo-keys, the operator's Secret of ci/secured-values.yaml,
    # reaches it whole through envFrom), but the gateway's own URL; never the audit signing key.
    keys = {"TODO_JWT_SECRET", "TODO_INTERNAL_SECRET", "TODO_AUDIT_SIGNING_KEY"}
    gateway_has = {e["name"] for e in gateway["env"]} | set(config["data"]) | keys
    assert (set(env) | set(config["data"])) - gateway_has == {"TODO_GATEWAY_URL"}
    assert "TODO_AUDIT_SIGNING_KEY" not in env


def test_the_test_pod_leaves_out_the_parts_the_release_does_not_run() -> None:
    values = with_required({"components": {"live": {"enabled": False}}})
    (pod,) = of_kind(render(values), "Pod").values()
    assert pod["spec"]["containers"][0]["args"] == ["check", "--skip=live"]


def test_with_rs256_the_test_pod_takes_a_token_from_a_secret() -> None:
    values = with_required(
        {
            "auth": {"jwtAlgorithm": "RS256", "jwksUrl": "https://idp.example.org/jwks.json"},
            "tests": {"checkTokenSecret": {"name": "todo-check-token"}},
        }
    )
    (pod,) = of_kind(render(values), "Pod").values()
    env = {variable["name"]: variable for variable in pod["spec"]["containers"][0]["env"]}
    assert "TODO_JWT_SECRET" not in env
    assert env["TODO_CHECK_TOKEN"]["valueFrom"] == {
        "secretKeyRef": {"name": "todo-check-token", "key": "token"}
    }
    (default,) = of_kind(render(REQUIRED), "Pod").values()
    assert "TODO_CHECK_TOKEN" not in {v["name"] for v in default["spec"]["containers"][0]["env"]}


def reachable_ports(policy: Manifest, labels: dict[str, str]) -> set[int]:
    """The ports a pod with `labels` (in the release's namespace) may reach under `policy`."""
    ports: set[int] = set()
    for rule in policy["spec"]["ingress"]:
        peers = rule.get("from")
        admitted = peers is None or any(
            peer["podSelector"]["matchLabels"].items() <= labels.items() for peer in peers
        )
        if admitted:
            ports |= {port["port"] for port in rule["ports"]}
    return ports


def test_the_network_policies_admit_the_test_pod_to_exactly_the_ports_it_checks() -> None:
    manifests = render(REQUIRED)
    (pod,) = of_kind(manifests, "Pod").values()
    labels = pod["metadata"]["labels"]
    policies = by_component(manifests, "NetworkPolicy")
    scrape = 9090  # open to every peer, for Prometheus
    assert reachable_ports(policies["gateway"], labels) == {8000, scrape}
    for name in GRPC_SERVICES:
        port = by_component(manifests, "Service")[name]["spec"]["ports"][0]["port"]
        assert reachable_ports(policies[name], labels) == {port, scrape}, name
    stranger = {**labels, "app.kubernetes.io/component": "stranger"}
    for name in GRPC_SERVICES:  # the same rules keep every other pod out
        assert reachable_ports(policies[name], stranger) == {scrape}, name
    off = render(with_required({"tests": {"enabled": False}}))
    assert of_kind(off, "Pod") == {}
    for name, policy in by_component(off, "NetworkPolicy").items():
        assert reachable_ports(policy, labels) <= {8000, scrape}, name


@pytest.mark.parametrize("block", ["serviceAccount", "tests"])
def test_values_reused_from_an_older_chart_are_refused_with_the_way_out(block: str) -> None:
    """`helm upgrade --reuse-values` from chart 0.2.0 keeps that chart's values, without this
    one's new blocks (a null removes the default here as reusing them would)."""
    with pytest.raises(HelmRenderError, match=f"the value {block} is missing") as refused:
        render_files(with_required({block: None}))
    assert "--reset-then-reuse-values" in str(refused.value)
