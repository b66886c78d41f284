"""The task board's files as the gateway serves them: headers, media types, no other origin."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import jwt
import pytest
from graphql import build_schema, parse, validate

from gateway.export_schema import SCHEMA_PATH
from gateway.transport.board import DIRECTORY, content_security_policy
from tests.support.gateway.gateway_harness import JWT_SECRET, GatewayClient
from tests.support.node_tools import NODE, NODE_TIMEOUT_SECONDS
from todo_cli.main import main
from todo_cli.up import board_link

ASSETS = sorted(path.name for path in DIRECTORY.iterdir() if path.name != "index.html")
# Anything a file could load or reach: a scheme and host, or a protocol-relative URL.
ELSEWHERE = re.compile(r"""(?:https?:|wss?:)?//[A-Za-z0-9.-]+\.[A-Za-z]""")


async def test_the_page_is_served_at_the_root_with_its_policy(app_client: GatewayClient) -> None:
    response = await app_client.http.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == content_security_policy("gateway")
    assert "connect-src 'self' ws://gateway wss://gateway" in content_security_policy("gateway")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.text == (DIRECTORY / "index.html").read_text()
    # GraphiQL stays at /graphql.
    playground = await app_client.http.get("/graphql", headers={"accept": "text/html"})
    assert "graphiql" in playground.text.lower()


@pytest.mark.parametrize("name", ASSETS)
async def test_every_file_is_served_with_its_media_type(
    app_client: GatewayClient, name: str
) -> None:
    response = await app_client.http.get(f"/web/{name}")
    assert response.status_code == 200
    suffix = name.rsplit(".", 1)[1]
    expected = {"js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}[suffix]
    assert response.headers["content-type"].startswith(expected)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["content-security-policy"] == content_security_policy("gateway")
    assert ELSEWHERE.search(response.text.replace("http://www.w3.org/2000/svg", "")) is None


def test_the_page_names_only_its_own_files() -> None:
    page = (DIRECTORY / "index.html").read_text()
    assert set(re.findall(r'(?:src|href)="/web/([^"]+)"', page)) <= set(ASSETS)
    assert ELSEWHERE.search(page) is None
    # Nothing inline for the CSP to allow.
    assert " style=" not in page
    assert "<script>" not in page


def test_todo_token_url_signs_a_browser_in_by_the_fragment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TODO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TODO_JWT_SECRET", JWT_SECRET)
    monkeypatch.setenv("TODO_GATEWAY_PORT", "8123")
    assert main(["token", "alice", "--url", "--ttl", "600"]) == 0
    origin, token = capsys.readouterr().out.strip().split("/#token=")
    assert origin == "http://127.0.0.1:8123"
    claims = jwt.decode(token, JWT_SECRET, algorithms=["HS256"])
    assert claims["sub"] == "alice"
    assert claims["exp"] - claims["iat"] == 600
    assert (
        board_link("http://127.0.0.1:8000/graphql", "x.y.z") == "http://127.0.0.1:8000/#token=x.y.z"
    )


def test_every_document_the_board_sends_is_valid_against_the_schema() -> None:
    """The board's documents (`queries.js`), read by Node as the browser reads the module, each
    validate against the committed schema: a changed field or input shows here, not first in a
    browser."""
    module = (DIRECTORY / "queries.js").as_uri()
    script = f"import * as q from {json.dumps(module)}; console.log(JSON.stringify(q));"
    completed = subprocess.run(
        [str(NODE), "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_SECONDS,
        check=True,
    )
    documents: dict[str, str] = json.loads(completed.stdout)
    schema = build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert {"LIST", "CREATE", "UPDATE", "COMPLETE", "DELETE", "SNOOZE"} <= set(documents)
    invalid = {
        name: [error.message for error in validate(schema, parse(document))]
        for name, document in documents.items()
    }
    assert {name: errors for name, errors in invalid.items() if errors} == {}
