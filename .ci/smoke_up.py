"""The README's run command as a new user meets it: `todo up` from a plain install with only the
`local` extra (the development servers), as `nox -s up` installs it.

Run by `.ci/run` with the Python of a fresh virtual environment holding only
`pip install '.[local]'`; uses nothing but the standard library. Starts `todo up` on
free ports, waits for its ready line (no warning may come first), creates and
lists a task through GraphQL with a `todo token`, stops the stack with SIGINT
as Ctrl-C does, and checks that no process and no listening port is left.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

READY_TIMEOUT = 240.0
CREATE = """mutation { createTask(input: {title: "from the smoke test"}) {
  task { id } userErrors { field message code } } }"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def graphql(port: str, token: str, query: str) -> dict[str, object]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body: dict[str, object] = json.load(response)
    if "errors" in body:
        raise SystemExit(f"GraphQL errors: {body['errors']}")
    return body


def created_task(body: dict[str, object]) -> str:
    """The id of the task a createTask answer made. A refused input is data, not an error
    (docs/guide.md#mutations): empty `userErrors` and a task, or the smoke test fails here."""
    data = body.get("data")
    payload = data.get("createTask") if isinstance(data, dict) else None
    task = payload.get("task") if isinstance(payload, dict) else None
    if (
        not isinstance(payload, dict)
        or payload.get("userErrors") != []
        or not isinstance(task, dict)
    ):
        raise SystemExit(f"createTask refused its input: {body}")
    task_id = task.get("id")
    if not isinstance(task_id, str):
        raise SystemExit(f"createTask answered no task id: {body}")
    return task_id


def check_playground(port: str) -> None:
    """GraphiQL's page and every asset it names come from the installed package (offline)."""
    base = f"http://127.0.0.1:{port}/"
    page = urllib.request.Request(f"{base}graphql", headers={"Accept": "text/html"})
    with urllib.request.urlopen(page, timeout=10) as response:
        html = response.read().decode()
    assets = re.findall(r'(?:src|href)="(graphql/assets/[^"]+)"', html)
    if not assets:
        raise SystemExit(f"the playground page names no assets: {html[:300]}")
    for asset in assets:
        with urllib.request.urlopen(base + asset, timeout=10) as response:
            if not response.read():
                raise SystemExit(f"empty playground asset {asset}")
    print(f"playground page and its {len(assets)} assets served", flush=True)


def fresh_environment(home: str) -> tuple[dict[str, str], dict[str, str]]:
    """A new user's environment (fresh HOME, nothing of ours set) with every port moved."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TODO_")}
    for key in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "XDG_RUNTIME_DIR", "XDG_DATA_HOME"):
        env.pop(key, None)
    env["HOME"] = home
    ports = {
        name: str(free_port())
        for name in (
            "TODO_BROKER_PORT",
            "TODO_TASKS_PORT",
            "TODO_NOTIFY_PORT",
            "TODO_RECUR_PORT",
            "TODO_AUDIT_PORT",
            "TODO_LIVE_PORT",
            "TODO_GATEWAY_PORT",
        )
    }
    return env | ports, ports


def start(todo: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], list[str]]:
    """`todo up`, once its ready line is out; fails on a warning or stderr output before it."""
    started = time.monotonic()
    stack = subprocess.Popen(
        [str(todo), "up"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    if stack.stdout is None or stack.stderr is None:
        raise SystemExit("todo up's output is not piped")
    errors: list[str] = []
    threading.Thread(target=lambda: errors.extend(stack.stderr or []), daemon=True).start()
    lines: list[str] = []
    for line in stack.stdout:
        lines.append(line.rstrip())
        print(f"  | {line.rstrip()}", flush=True)
        if "todo stack ready" in line or time.monotonic() - started > READY_TIMEOUT:
            break
    problem = ""
    if not lines or "todo stack ready" not in lines[-1]:
        problem = f"todo up never became ready: {lines} {errors}"
    elif errors:
        problem = f"todo up wrote to stderr before it was ready: {errors}"
    elif any("warn" in line.lower() for line in lines):
        problem = f"todo up warned at start: {lines}"
    if problem:
        stack.kill()
        raise SystemExit(problem)
    print(f"ready after {time.monotonic() - started:.1f} s", flush=True)
    return stack, errors


def stop_cleanly(stack: subprocess.Popen[str], errors: list[str], ports: dict[str, str]) -> None:
    """SIGINT as Ctrl-C sends; then no process of the stack and no port may be left."""
    children = descendants(stack.pid)
    stack.send_signal(signal.SIGINT)
    code = stack.wait(90)
    rest = stack.stdout.read() if stack.stdout else ""
    if code != 0:
        raise SystemExit(f"todo up exited with {code} after SIGINT: {rest} {errors}")
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in children if alive(pid)]
    open_ports = [p for p in ports.values() if listening(int(p))]
    if left or open_ports:
        raise SystemExit(f"left behind: processes {left}, listening ports {open_ports}")
    print(f"stopped cleanly: {len(children)} processes gone, no port left open", flush=True)


def main() -> None:
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="todo-smoke-") as home:
        env, ports = fresh_environment(home)
        stack, errors = start(bin_dir / "todo", env)
        token = subprocess.run(
            [str(bin_dir / "todo"), "token", "smoke"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        port = ports["TODO_GATEWAY_PORT"]
        try:
            created_task(graphql(port, token, CREATE))
        except SystemExit:
            stack.kill()
            raise
        listed = graphql(port, token, "{ tasks { totalCount } }")
        if listed["data"] != {"tasks": {"totalCount": 1}}:
            stack.kill()
            raise SystemExit(f"unexpected listing: {listed}")
        graphql(port, token, "{ notifications(first: 1) { totalCount } }")
        print("GraphQL mutation and queries answered (svc_tasks, svc_notify)", flush=True)
        check_playground(port)
        stop_cleanly(stack, errors, ports)


if __name__ == "__main__":
    main()
