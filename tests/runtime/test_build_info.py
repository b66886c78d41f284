"""`todo_build_info{version, revision}` on every component's /metrics: which build runs, with the
revision the image was built from (`ARG REVISION` → `TODO_REVISION`)."""

from __future__ import annotations

from tests.support.deploy.dockerfile import image_environment, stages
from tests.support.metrics_endpoint import scraped
from todo_runtime import metrics
from todo_runtime.config import Env


async def test_build_info_is_served_with_the_version_and_the_revision() -> None:
    response = await scraped({metrics.REVISION_ENV: "4b825dc6"})
    version = metrics.version()
    assert version not in ("", metrics.UNKNOWN)
    line = f'todo_build_info{{revision="4b825dc6",version="{version}"}} 1.0'
    assert line in response.text.splitlines()
    assert sum(s.startswith("todo_build_info{") for s in response.text.splitlines()) == 1


def test_the_revision_is_unknown_unless_given() -> None:
    # This tree is installed in place, not from a VCS URL: pip recorded no commit.
    assert metrics.revision(Env({})) == metrics.UNKNOWN
    assert metrics.revision(Env({metrics.REVISION_ENV: "abc"})) == "abc"


def test_the_image_sets_the_revision_it_was_built_from() -> None:
    runtime = stages()[-1]
    assert ("ARG", "REVISION=unknown") in runtime.instructions
    assert image_environment()[metrics.REVISION_ENV] == "${REVISION}"
