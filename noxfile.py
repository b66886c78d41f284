"""Developer sessions: tests, unit, faults, lint, proto, assets, chart_readme, up, bench.
Each installs what it needs from scratch."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.default_venv_backend = "venv"


@nox.session  # the Python that runs nox (3.11 or newer)
def tests(session: nox.Session) -> None:
    """The test suite against a real PostgreSQL (embedded unless TEST_DATABASE_URL) and a real
    Kafka-protocol broker, in 4 worker processes (the tests mostly wait on I/O); then, one at a
    time, the tests marked `alone` (the fault suite's 14 processes, the previous release's own
    test run, the chart run as Kubernetes would run it), which would crowd the rest, and the
    WebSocket disconnect test, whose memory the others' load would disturb. Each phase reports
    its ten slowest tests."""
    session.install("-e", ".[dev,local]")
    session.run("pytest", "--numprocesses=4", "--durations=10", "-m", "not alone", *session.posargs)
    # Exit code 5: the posargs (`-k` of another test) left none of them.
    _serial(session, "alone", success_codes=[0, 5])


@nox.session  # the Python that runs nox (3.11 or newer)
def unit(session: nox.Session) -> None:
    """The tests that need no PostgreSQL, broker or process of their own (not marked
    `integration`): every pure rule, in well under a minute."""
    session.install("-e", ".[dev,local]")
    session.run(
        "pytest", "--numprocesses=2", "--durations=5", "-m", "not integration", *session.posargs
    )


@nox.session  # the Python that runs nox (3.11 or newer)
def faults(session: nox.Session) -> None:
    """The fault suite alone; `TODO_FAULT_SOAK_SECONDS` makes it a soak of that length."""
    session.install("-e", ".[dev,local]")
    _serial(session, "faults", success_codes=[0])


def _serial(session: nox.Session, marker: str, success_codes: list[int]) -> None:
    session.run(
        "pytest",
        "--numprocesses=0",
        "--durations=10",
        "-m",
        marker,
        *session.posargs,
        success_codes=success_codes,
    )


@nox.session  # the Python that runs nox (3.11 or newer)
def lint(session: nox.Session) -> None:
    """ruff, mypy --strict, the import layering, and GraphQL schema compatibility.

    Posargs go to the schema check (e.g. `-- --against HEAD~1`).
    """
    session.install("-e", ".[dev,local]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
    session.run("lint-imports")
    session.run("python", "-m", "gateway.schema_check", *session.posargs)


@nox.session  # the Python that runs nox (3.11 or newer)
def proto(session: nox.Session) -> None:
    """Regenerates todo_contracts/ from proto/ (commit the result)."""
    session.install("-e", ".[dev,local]")
    session.run("python", "-m", "todo_contracts.generate")
    session.run("python", "-m", "gateway.export_schema")


@nox.session  # the Python that runs nox (3.11 or newer)
def assets(session: nox.Session) -> None:
    """Rebuilds the playground's files (gateway/static/playground/) from pinned npm packages
    (commit the result)."""
    session.install("-e", ".[dev,local]")
    session.run("python", "-m", "gateway.playground_assets")


@nox.session  # the Python that runs nox (3.11 or newer)
def chart_readme(session: nox.Session) -> None:
    """Regenerates the values table of charts/todo/README.md from values.schema.json and
    values.yaml (commit the result; tests/deploy/test_chart_readme.py checks it is current)."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "tests.support.deploy.chart_readme")


@nox.session  # the Python that runs nox (3.11 or newer)
def up(session: nox.Session) -> None:
    """Runs the whole stack: `todo up`."""
    session.install("-e", ".[local]")
    session.run("todo", "up", *session.posargs)


@nox.session  # the Python that runs nox (3.11 or newer)
def bench(session: nox.Session) -> None:
    """Benchmarks; JSON results land in bench/results/."""
    session.install("-e", ".[dev,local]", "py-spy==0.4.3")  # py-spy: `bench profile`
    session.run("python", "-m", "bench", *session.posargs)
