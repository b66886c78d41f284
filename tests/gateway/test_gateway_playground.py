"""The playground: GraphiQL's page and assets served by the gateway, fresh from the build step."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest

from gateway.playground_assets import build
from gateway.transport.playground import DIRECTORY, IMMUTABLE, content_security_policy
from tests.support.gateway.gateway_harness import GatewayClient

PAGE_URL = "http://gateway/graphql"
HTML = {"accept": "text/html,application/xhtml+xml"}
MEDIA_TYPES = {
    "js": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "svg": "image/svg+xml",
    "png": "image/png",
    "woff2": "font/woff2",
    "woff": "font/woff",
}


class _Page(HTMLParser):
    """The URLs a page loads, and whatever it has inline: scripts, styles, event handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.urls += [value for name in ("src", "href") if (value := values.get(name))]
        self.inline += [f"{tag} {name}" for name in values if name == "style" or name[:2] == "on"]
        if tag == "style" or (tag == "script" and "src" not in values):
            self.inline.append(tag)
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(f"script text {data.strip()[:40]}")


async def _page(client: GatewayClient) -> _Page:
    response = await client.http.get("/graphql", headers=HTML)
    assert response.status_code == 200
    page = _Page()
    page.feed(response.text)
    return page


async def test_a_browser_gets_the_playground_with_a_csp_of_its_own_origin(
    app_client: GatewayClient,
) -> None:
    response = await app_client.http.get("/graphql", headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == content_security_policy("gateway")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-content-type-options"] == "nosniff"
    page = await _page(app_client)
    assert page.inline == []
    assert len(page.urls) == 7  # an icon, two stylesheets, four scripts
    assert [url for url in page.urls if not url.startswith("graphql/assets/")] == []
    assert "unpkg" not in response.text
    assert "jsdelivr" not in response.text


async def test_every_file_the_page_loads_is_served_for_good(app_client: GatewayClient) -> None:
    """Also every file the stylesheets load: GraphiQL's fonts, moved out of `data:` URLs."""
    pending = [urljoin(PAGE_URL, url) for url in (await _page(app_client)).urls]
    served: set[str] = set()
    while pending:
        url = pending.pop()
        served.add(url)
        response = await app_client.http.get(url)
        assert response.status_code == 200, url
        extension = url.rpartition(".")[2]
        assert response.headers["content-type"] == MEDIA_TYPES[extension]
        assert response.headers["cache-control"] == IMMUTABLE
        assert response.headers["x-content-type-options"] == "nosniff"
        if extension == "css":
            assert "data:" not in response.text
            pending += [
                urljoin(url, found) for found in re.findall(r"url\(([^)]*)\)", response.text)
            ]
    assert len({url.rpartition(".")[2] for url in served}) == len(MEDIA_TYPES)


async def test_an_unknown_asset_is_not_found(app_client: GatewayClient) -> None:
    response = await app_client.http.get("/graphql/assets/graphiql.0000000000000000.js")
    assert response.status_code == 404


async def test_a_get_with_a_query_is_answered_not_given_the_page(app_client: GatewayClient) -> None:
    response = await app_client.http.get(
        "/graphql", params={"query": "{ __typename }"}, headers=HTML
    )
    assert response.json() == {"data": {"__typename": "Query"}}
    assert "content-security-policy" not in response.headers


@pytest.mark.parametrize(
    ("host", "connect_src"),
    [
        ("127.0.0.1:8000", "'self' ws://127.0.0.1:8000 wss://127.0.0.1:8000"),
        ("todo.example.com", "'self' ws://todo.example.com wss://todo.example.com"),
        ("[::1]:8000", "'self' ws://[::1]:8000 wss://[::1]:8000"),
        # Anything else could end the directive or add a source: 'self' alone.
        ("evil.example; script-src *", "'self'"),
        ("a.example b.example", "'self'"),
        ("todo.example.com:8000:1", "'self'"),
        ("", "'self'"),
        (None, "'self'"),
    ],
)
def test_connect_src_names_the_websocket_of_a_plain_host(
    host: str | None, connect_src: str
) -> None:
    directives = content_security_policy(host).split("; ")
    assert f"connect-src {connect_src}" in directives
    assert directives[0] == "default-src 'self'"
    assert not [directive for directive in directives if "unsafe" in directive or "*" in directive]


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*") if path.is_file()
    }


@pytest.mark.integration
def test_the_committed_playground_is_what_the_build_makes_today(tmp_path: Path) -> None:
    """Runs the build step (npm ci of the pinned packages, with npm from the wheel)."""
    build(tmp_path / "playground")
    expected, committed = _files(tmp_path / "playground"), _files(DIRECTORY)
    stale = sorted(
        name
        for name in expected.keys() | committed.keys()
        if expected.get(name) != committed.get(name)
    )
    assert not stale, f"stale playground files, run `python -m gateway.playground_assets`: {stale}"
