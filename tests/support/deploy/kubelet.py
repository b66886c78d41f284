"""Runs a rendered chart's pods on this machine as Kubernetes would, for the chart's own test.

A pod's container runs the image's entrypoint with the container's args, in an
environment built as the kubelet builds it: the image's ENV, then `envFrom`
(ConfigMaps and Secrets), then `env` (literal values, `secretKeyRef`,
`configMapKeyRef`). Its volumes are written out: a Secret's keys become files
(every key, or the listed `items`), an emptyDir a directory. Probes are made as
the kubelet makes them (gRPC health with the rendered service name, or an HTTP
GET of the rendered path), each period, within its timeout.

The only rewrites, the ones a single machine forces: one process per
Deployment; each process's metrics port moved to a free one (they would all
share 9090); every `<release>-<component>` host, and the broker's and the
database's, become 127.0.0.1 (a Service's name means nothing here); and mount
paths live under a temporary root (with any variable naming one moved too).
The image's entrypoint (`todo`) is a virtual environment's, installed as the
Dockerfile installs it.

Every process also records which environment variables it read (a
`sitecustomize` on `PYTHONPATH` that watches `os.environ` and the runtime's
`Env`), so the test can show that the chart sets nothing no code reads, and
that every variable a process requires was set.
"""

from __future__ import annotations

import asyncio
import base64
import json
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from tests.support.infra import health_status
from todo_cli.broker import free_port
from todo_cli.die_with_parent import tied

Manifest = dict[str, Any]
IMAGE_ENTRYPOINT: Final = "todo"
READS_ENV: Final = (
    "CHART_RUN_ENV_READS"  # where the recorder writes (test plumbing, not the chart's)
)
RECORDER: Final = '''\
"""Records the environment variables this process reads (the chart test's recorder).

The file is rewritten whenever a new name is read, so it holds everything even when the process
ends by a signal (uvicorn re-raises SIGTERM after its graceful shutdown, and atexit never runs).
"""
import json
import os
import sys

_reads = set()
_required = set()
_path = os.path.join(os.environ["{reads}"], f"{os.getpid()}.json")
_getitem = os._Environ.__getitem__


def _save():
    with open(_path, "w", encoding="utf-8") as file:
        json.dump({"argv": sys.argv, "reads": sorted(_reads), "required": sorted(_required)}, file)


def _recording_getitem(self, key):
    if key not in _reads:
        _reads.add(key)
        _save()
    return _getitem(self, key)


os._Environ.__getitem__ = _recording_getitem

from todo_runtime import config as _config  # noqa: E402
from todo_cli.die_with_parent import tied


def _requiring(method):
    def read(self, key, default=_config.MISSING, *args):
        if isinstance(default, _config._Missing) and key not in _required:
            _required.add(key)
            _save()
        return method(self, key, default, *args)

    return read


for _name in ("text", "integer", "number"):
    setattr(_config.Env, _name, _requiring(getattr(_config.Env, _name)))
'''.replace("{reads}", READS_ENV)


@dataclass(frozen=True)
class Probe:
    """One probe of a container: gRPC (`service` is the health name) or HTTP (`path`)."""

    kind: str
    port: int
    service: str
    path: str
    period: float
    failure_threshold: int


@dataclass
class Container:
    """A container ready to run: what it runs, in what environment, and how it is probed.

    `chart_names` are the variables the chart sets for it (env and envFrom), before rewrites.
    """

    name: str
    argv: list[str]
    env: dict[str, str]
    chart_names: set[str]
    probes: dict[str, Probe]
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    exited: list[int] = field(default_factory=list)


class Cluster:
    """The objects pods refer to: the chart's rendered Secrets and ConfigMaps, and the Secrets an
    operator made beforehand (`existing`, name → key → value)."""

    def __init__(self, manifests: Sequence[Manifest], existing: Mapping[str, Mapping[str, str]]):
        self.secrets: dict[str, dict[str, bytes]] = {
            name: {key: value.encode() for key, value in data.items()}
            for name, data in existing.items()
        }
        self.config_maps: dict[str, dict[str, str]] = {}
        for manifest in manifests:
            name = manifest["metadata"]["name"]
            if manifest["kind"] == "Secret":
                data = {key: base64.b64decode(v) for key, v in manifest.get("data", {}).items()}
                data |= {key: v.encode() for key, v in manifest.get("stringData", {}).items()}
                self.secrets[name] = data
            elif manifest["kind"] == "ConfigMap":
                self.config_maps[name] = dict(manifest.get("data", {}))


@dataclass(frozen=True)
class Machine:
    """Where pods run here: `root` holds mounts, logs and the recorder; `venv` is the image's
    Python environment; `hosts` the Service names to replace with 127.0.0.1."""

    root: Path
    venv: Path
    hosts: tuple[str, ...]

    @property
    def reads(self) -> Path:
        return self.root / "env-reads"

    def prepare(self) -> None:
        (self.root / "recorder").mkdir(parents=True, exist_ok=True)
        (self.root / "recorder" / "sitecustomize.py").write_text(RECORDER)
        self.reads.mkdir(exist_ok=True)
        (self.root / "logs").mkdir(exist_ok=True)


def container_of(
    pod: Manifest, cluster: Cluster, machine: Machine, image_env: Mapping[str, str], tag: str
) -> Container:
    """The pod's (only) container, resolved as the kubelet resolves it; `tag` names its mounts."""
    spec = pod["spec"]
    [container] = spec["containers"]
    mounts = _mount(
        spec.get("volumes", []), container.get("volumeMounts", []), cluster, machine, tag
    )
    env = _image_environment(image_env, machine)
    chart_names: set[str] = set()
    for source in container.get("envFrom", []):
        values = _env_from(source, cluster)
        env |= values
        chart_names |= set(values)
    for variable in container.get("env", []):
        value = _env_value(variable, cluster)
        chart_names.add(variable["name"])
        if value is not None:
            env[variable["name"]] = value
    env = {name: _rewrite(value, mounts, machine) for name, value in env.items()}
    if "TODO_METRICS_PORT" in env:
        env["TODO_METRICS_PORT"] = str(free_port())
    env["PYTHONPATH"] = str(machine.root / "recorder")
    env[READS_ENV] = str(machine.reads)
    ports = {port["name"]: port["containerPort"] for port in container.get("ports", [])}
    probes = {
        kind: _probe(container[f"{kind}Probe"], ports)
        for kind in ("startup", "liveness", "readiness")
        if f"{kind}Probe" in container
    }
    command = [str(machine.venv / "bin" / IMAGE_ENTRYPOINT), *container.get("args", [])]
    return Container(container["name"], command, env, chart_names, probes)


def _image_environment(image_env: Mapping[str, str], machine: Machine) -> dict[str, str]:
    """The image's ENV: PATH leads to the image's environment, HOME under the root."""
    env = dict(image_env)
    env["PATH"] = f"{machine.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin"
    if "HOME" in env:
        env["HOME"] = str(machine.root / env["HOME"].lstrip("/"))
    return env


def _mount(
    volumes: Sequence[Manifest],
    mounts: Sequence[Manifest],
    cluster: Cluster,
    machine: Machine,
    tag: str,
) -> dict[str, Path]:
    """Writes each mounted volume under the root; mount path → where it is here."""
    by_name = {volume["name"]: volume for volume in volumes}
    placed: dict[str, Path] = {}
    for mount in mounts:
        volume = by_name[mount["name"]]
        here = machine.root / "pods" / tag / mount["mountPath"].lstrip("/")
        here.mkdir(parents=True, exist_ok=True)
        if "secret" in volume:
            data = cluster.secrets[volume["secret"]["secretName"]]
            items = volume["secret"].get("items") or [{"key": k, "path": k} for k in data]
            for item in items:
                target = here / item["path"]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data[item["key"]])
                target.chmod(0o400)
        elif "configMap" in volume:
            config = cluster.config_maps[volume["configMap"]["name"]]
            for key, value in config.items():
                (here / key).write_text(value)
        elif "emptyDir" not in volume:
            raise AssertionError(f"a volume kind this machine cannot provide: {volume}")
        placed[mount["mountPath"].rstrip("/")] = here
    return placed


def _env_from(source: Manifest, cluster: Cluster) -> dict[str, str]:
    if "configMapRef" in source:
        return dict(cluster.config_maps[source["configMapRef"]["name"]])
    name = source["secretRef"]["name"]
    return {key: value.decode() for key, value in cluster.secrets[name].items()}


def _env_value(variable: Manifest, cluster: Cluster) -> str | None:
    if "value" in variable:
        value = str(variable["value"])
        assert "$(" not in value, f"variable references are not resolved here: {variable}"
        return value
    source = variable["valueFrom"]
    if "secretKeyRef" in source:
        ref = source["secretKeyRef"]
        data = cluster.secrets.get(ref["name"], {})
        if ref["key"] not in data:
            assert ref.get("optional"), f"{variable['name']}: no key {ref['key']} in {ref['name']}"
            return None
        return data[ref["key"]].decode()
    if "configMapKeyRef" in source:
        ref = source["configMapKeyRef"]
        return cluster.config_maps[ref["name"]][ref["key"]]
    raise AssertionError(f"a value source this machine cannot resolve: {variable}")


def _rewrite(value: str, mounts: Mapping[str, Path], machine: Machine) -> str:
    for mount_path, here in mounts.items():
        if value == mount_path or value.startswith(mount_path + "/"):
            return str(here) + value[len(mount_path) :]
    for host in machine.hosts:
        value = value.replace(f"{host}:", "127.0.0.1:")
    return value


def _probe(spec: Manifest, ports: Mapping[str, int]) -> Probe:
    period = float(spec.get("periodSeconds", 10))
    threshold = int(spec.get("failureThreshold", 3))
    if "grpc" in spec:
        grpc = spec["grpc"]
        return Probe("grpc", int(grpc["port"]), grpc.get("service", ""), "", period, threshold)
    http = spec["httpGet"]
    port = http["port"]
    return Probe(
        "http",
        ports[port] if isinstance(port, str) else int(port),
        "",
        http["path"],
        period,
        threshold,
    )


async def probe_once(probe: Probe) -> bool:
    """One probe as the kubelet makes it (1 s timeout, the default)."""
    if probe.kind == "grpc":
        return await health_status(f"127.0.0.1:{probe.port}", probe.service) == "SERVING"
    return await asyncio.to_thread(_http_get_ok, f"http://127.0.0.1:{probe.port}{probe.path}")


def _http_get_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return 200 <= int(response.status) < 400
    except (OSError, urllib.error.URLError):
        return False


def start(container: Container, machine: Machine, tag: str) -> None:
    """Starts the container's process, its output to a log of its own."""
    container.log_path = machine.root / "logs" / f"{tag}.log"
    with container.log_path.open("ab") as log:
        container.process = subprocess.Popen(
            tied(container.argv),
            env=container.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=machine.root,
            start_new_session=True,
        )


def run_to_completion(container: Container, machine: Machine, tag: str, timeout: float) -> int:
    """A Job's container: runs it and returns its exit status."""
    start(container, machine, tag)
    assert container.process is not None
    return container.process.wait(timeout)


def stop(container: Container, grace: float = 30.0) -> int | None:
    """SIGTERM, then SIGKILL after the grace period, as a pod's deletion does."""
    process = container.process
    if process is None:
        return None
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    return process.returncode


def log_text(container: Container) -> str:
    return container.log_path.read_text(errors="replace") if container.log_path else ""


@dataclass(frozen=True)
class Reads:
    """What one process read (`reads`) and required (`required`: read with no default)."""

    argv: list[str]
    reads: set[str]
    required: set[str]


def recorded_reads(machine: Machine) -> list[Reads]:
    found = []
    for path in sorted(machine.reads.glob("*.json")):
        data = json.loads(path.read_text())
        found.append(Reads(data["argv"], set(data["reads"]), set(data["required"])))
    return found
