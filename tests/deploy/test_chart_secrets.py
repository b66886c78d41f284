"""The Secrets of charts/todo outlive an upgrade, a GitOps sync and `helm uninstall`, and the hook
Jobs find what they read: rendered offline by Helm's own library (see test_chart.py)."""

from __future__ import annotations

import hashlib

import pytest

from tests.support.deploy.charts import (
    REQUIRED,
    SECURED,
    Values,
    by_component,
    merged,
    of_kind,
    render,
    render_files,
    with_required,
)

GIVEN: Values = with_required(  # every secret given, so nothing is generated
    {
        "auth": {"jwtSecret": "j" * 40},
        "secrets": {"internalSecret": "i" * 40, "auditSigningKey": "A" * 43 + "="},
    }
)


def test_generated_secrets_are_set_and_given_ones_win() -> None:
    secret = of_kind(render(REQUIRED), "Secret")["todo-secrets"]
    assert set(secret["data"]) == {
        "TODO_JWT_SECRET",
        "TODO_INTERNAL_SECRET",
        "TODO_AUDIT_SIGNING_KEY",
    }
    data = of_kind(render(GIVEN), "Secret")["todo-secrets"]["data"]
    assert data["TODO_JWT_SECRET"] == "ampq" * 13 + "ag=="  # base64 of 40 "j"
    with_existing = render(with_required({"secrets": {"existingSecret": "mine"}}))
    assert "todo-secrets" not in of_kind(with_existing, "Secret")


def test_the_secrets_the_chart_renders_survive_uninstall_and_are_never_hooks() -> None:
    """`helm uninstall` keeps them (the audit signing key above all); `lookup` reuses them."""
    secrets = of_kind(render(REQUIRED), "Secret")
    assert set(secrets) == {"todo-secrets", "todo-database"}
    for name, secret in secrets.items():
        annotations = secret["metadata"]["annotations"]
        assert annotations["helm.sh/resource-policy"] == "keep", name
        assert not [key for key in annotations if key.startswith("helm.sh/hook")], name


@pytest.mark.parametrize("values", [REQUIRED, SECURED, GIVEN], ids=["defaults", "secured", "given"])
def test_no_hook_writes_a_secret(values: Values) -> None:
    hooks = [m for m in render(values) if "helm.sh/hook" in m["metadata"].get("annotations", {})]
    kinds = {(m["kind"], m["metadata"]["annotations"]["helm.sh/hook"]) for m in hooks}
    assert kinds == {("Job", "post-install,pre-upgrade"), ("Pod", "test")}  # `helm test`'s pod


def test_the_jobs_run_after_an_install_and_before_an_upgrade_migrations_first() -> None:
    """On a first install the database Secret exists only once the release's objects do."""
    jobs = by_component(render(REQUIRED), "Job")
    assert set(jobs) == {"migrate", "topics"}
    annotations = {name: job["metadata"]["annotations"] for name, job in jobs.items()}
    for name, job in annotations.items():
        assert job["helm.sh/hook"] == "post-install,pre-upgrade", name
        assert job["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded", name
    weights = {name: int(job["helm.sh/hook-weight"]) for name, job in annotations.items()}
    assert weights["migrate"] < weights["topics"]


def test_gitops_renders_are_identical_and_generate_no_secret() -> None:
    """With existing Secrets named, `helm template` (Argo CD, Flux) renders no Secret, so a sync
    neither replaces a key nor rolls the pods; generated ones would differ on every render."""
    first, second = render_files(SECURED), render_files(SECURED)
    assert first == second
    assert of_kind(render(SECURED), "Secret") == {}
    assert render_files(REQUIRED) != render_files(REQUIRED)  # new random keys each time


def test_pods_roll_when_a_secret_the_chart_renders_changes() -> None:
    def checksums(values: Values) -> set[str]:
        deployments = of_kind(render(values), "Deployment").values()
        return {
            d["spec"]["template"]["metadata"]["annotations"]["checksum/secrets"]
            for d in deployments
        }

    rendered = render_files(GIVEN)["todo/templates/secret.yaml"]
    assert checksums(GIVEN) == {hashlib.sha256(rendered.encode()).hexdigest()}
    moved = merged(GIVEN, {"database": {"url": "postgresql://todo:new@db.todo:5432/todo"}})
    rotated = merged(GIVEN, {"secrets": {"internalSecret": "k" * 40}})
    assert len({*checksums(GIVEN), *checksums(moved), *checksums(rotated)}) == 3
