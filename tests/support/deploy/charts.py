"""charts/todo rendered offline by Helm's own library (helm-python-sdk), with the value files of
its ci/ directory (chart-testing's convention): what the chart tests share."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import yaml
from helm_python import chart as helm

from todo_cli import components

CHART: Final = Path(__file__).resolve().parents[3] / "charts" / "todo"
Manifest = dict[str, Any]
Values = dict[str, Any]


def ci_values(name: str) -> Values:
    """charts/todo/ci/<name>-values.yaml."""
    loaded = yaml.safe_load((CHART / "ci" / f"{name}-values.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


REQUIRED: Final = ci_values("default")  # the least an install needs
SECURED: Final = ci_values("secured")  # TLS and SASL everywhere, every secret the operator's own
KUBERNETES: Final = "1.30.0"  # the version manifests are validated against
GRPC_SERVICES: Final = sorted(name for name in components.BY_NAME if name != "gateway")


def merged(base: Values, override: Values) -> Values:
    """`override` over `base`, maps merged key by key as Helm merges values."""
    result = dict(base)
    for key, value in override.items():
        below = result.get(key)
        if isinstance(value, dict) and isinstance(below, dict):
            result[key] = merged(below, value)
        else:
            result[key] = value
    return result


def with_required(override: Values) -> Values:
    return merged(REQUIRED, override)


def render_files(values: Values) -> dict[str, str]:
    """Each template's output, as `helm template` (or an install's first render) makes it."""
    chart = helm.Chart.load(CHART)
    return chart.render(values, name="todo", namespace="todo", is_install=True)


def render(values: Values) -> list[Manifest]:
    """Every object the chart makes with `values`, as an install would."""
    manifests = []
    for path, text in render_files(values).items():
        if path.endswith(".txt"):
            continue
        manifests += [doc for doc in yaml.safe_load_all(text) if doc]
    return manifests


def of_kind(manifests: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def component_of(manifest: Manifest) -> str:
    return str(manifest["metadata"]["labels"]["app.kubernetes.io/component"])


def by_component(manifests: list[Manifest], kind: str) -> dict[str, Manifest]:
    """The objects of `kind` by component: a Deployment's component, a Job's command."""
    return {component_of(m): m for m in of_kind(manifests, kind).values()}


def container_of(workload: Manifest) -> Manifest:
    """The one container of a Deployment's or Job's pod."""
    [container] = workload["spec"]["template"]["spec"]["containers"]
    assert isinstance(container, dict)
    return container


def env_of(workload: Manifest) -> dict[str, Any]:
    """The container's variables: a value, or where it comes from (`valueFrom`)."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container_of(workload)["env"]}


def secret_files(workload: Manifest) -> dict[str, tuple[str, str]]:
    """Each file the container sees from a Secret: its path -> (the Secret, its key)."""
    volumes = {v["name"]: v for v in workload["spec"]["template"]["spec"]["volumes"]}
    files = {}
    for mount in container_of(workload)["volumeMounts"]:
        secret = volumes[mount["name"]].get("secret")
        if secret is None:
            continue
        for item in secret["items"]:
            path = f"{mount['mountPath']}/{item['path']}"
            files[path] = (secret["secretName"], item["key"])
    return files
