"""Headless Chromium for the browser tests, from the @sparticuz/chromium npm package.

Playwright's own browser download is not reachable everywhere the tests run; the npm registry
is. `chromium_launch()` installs tests/browser once (`npm_ci`), extracts Chromium once per
package version into a directory of the temp directory, and returns what
`playwright.chromium.launch()` needs. A file lock makes pytest-xdist workers, and test sessions
running at once, wait for one extraction instead of reading a half-written binary; a stamp
written after it completes makes an interrupted one start over.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.node_tools import NODE, NODE_TIMEOUT_SECONDS, node_environment, npm_ci

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "browser"  # tests/browser: package.json
# Flags of `chromium.args` that switch off the same-origin policy and mixed-content blocking:
# meant for scraping from a serverless function, wrong for a test of what a page may load.
_INSECURE_FLAGS = frozenset({"--disable-web-security", "--allow-running-insecure-content"})
# Written after a complete extraction: the launch script's output.
_STAMP = ".launch.json"


@dataclass(frozen=True)
class ChromiumLaunch:
    """Keyword arguments for `playwright.chromium.launch()`."""

    executable_path: str
    args: list[str]


def chromium_launch() -> ChromiumLaunch:
    """Chromium extracted and ready to launch (blocking: npm ci and extraction, once)."""
    node_modules = npm_ci(PACKAGE_DIR)
    manifest = node_modules / "@sparticuz" / "chromium" / "package.json"
    version = json.loads(manifest.read_text())["version"]
    directory = Path(tempfile.gettempdir()) / f"todo-chromium-{version}"
    with _locked(directory.parent / f"{directory.name}.lock"):
        stamp = directory / _STAMP
        if not (stamp.is_file() and (directory / "chromium").is_file()):
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir()
            completed = subprocess.run(
                [str(NODE), str(PACKAGE_DIR / "chromium_launch.mjs")],
                cwd=PACKAGE_DIR,
                env=node_environment({"TMPDIR": str(directory)}),
                capture_output=True,
                text=True,
                timeout=NODE_TIMEOUT_SECONDS,
                check=False,
            )
            if completed.returncode != 0:
                raise RuntimeError(f"extracting Chromium failed:\n{completed.stderr}")
            stamp.write_text(completed.stdout)
        launch = json.loads(stamp.read_text())
    return ChromiumLaunch(
        executable_path=launch["executablePath"],
        args=[flag for flag in launch["args"] if flag not in _INSECURE_FLAGS],
    )


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` (created if missing), held for the block."""
    with path.open("a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
