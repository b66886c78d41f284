"""The GraphiQL playground, served by the gateway itself: no CDN, and a CSP of its own origin.

The page and its assets are built by `python -m gateway.playground_assets` into
static/playground/ and committed, so running the gateway needs no npm. Every asset's name
carries a hash of its content, so browsers may keep it for a year; the page is never cached.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

DIRECTORY = Path(__file__).parent / "static" / "playground"
# Under /graphql, so a proxy that forwards only /graphql forwards the playground too. The page
# (at /graphql) names its assets relative to itself: `graphql/assets/<file>`.
ASSETS_PATH = "/graphql/assets"
IMMUTABLE = "public, max-age=31536000, immutable"
_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
}
# A host name, IPv4 or bracketed IPv6 address, and an optional port: nothing that could end a
# CSP directive or add a source.
_HOST = re.compile(r"(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
# The one inline style GraphiQL 3.8.3 adds: while a dialog or menu is open, its scroll lock
# (react-remove-scroll-bar) puts a <style> in <head>, with no way to give it a nonce from
# outside the bundle. Its text is fixed on this page, which has no scrollbar to measure, so
# its hash allows it and nothing else. Upgrading GraphiQL may change it: the browser test
# opens a dialog and fails on any CSP violation.
_SCROLL_LOCK_STYLE = "'sha256-Y/huXlwoYkVyQlxwSVcCi1RCDGDCSVBzDt0hYP9qlTc='"


def content_security_policy(host: str | None) -> str:
    """The page's CSP: scripts, styles, fonts, images and connections from this origin only.

    `connect-src` names the page's host with `ws:` and `wss:` too: 'self' matches WebSocket
    URLs only in browsers that follow CSP Level 3, and older ones are still about. A `Host` that
    is not a plain host and port adds nothing. The directives that do not fall back to
    `default-src` are closed.
    """
    connect = "'self'"
    if host is not None and _HOST.fullmatch(host):
        connect += f" ws://{host} wss://{host}"
    return "; ".join(
        (
            "default-src 'self'",
            f"style-src 'self' {_SCROLL_LOCK_STYLE}",
            f"connect-src {connect}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


class Playground:
    """The page (for `GraphQL.render_graphql_ide`) and the route of its assets.

    Reads the page at construction, so a package installed without its static files fails
    when the app is built rather than when a browser first asks.
    """

    def __init__(self, directory: Path = DIRECTORY) -> None:
        self._page = (directory / "index.html").read_bytes()
        self.assets = Mount(ASSETS_PATH, app=_HashedFiles(directory=directory / "assets"))

    def page(self, request: Request) -> Response:
        return HTMLResponse(
            self._page,
            headers={
                "content-security-policy": content_security_policy(request.headers.get("host")),
                "cache-control": "no-cache",
                "referrer-policy": "no-referrer",
                "x-content-type-options": "nosniff",
            },
        )


class _HashedFiles(StaticFiles):
    """Files whose names change with their content: cached for good, with exact media types."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        media_type = _MEDIA_TYPES.get(Path(full_path).suffix)
        if media_type is not None:
            response.headers["content-type"] = media_type
        response.headers["cache-control"] = IMMUTABLE
        response.headers["x-content-type-options"] = "nosniff"
        return response
