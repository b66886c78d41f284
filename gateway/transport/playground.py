"""The GraphiQL playground, served by the gateway itself: no CDN, and a CSP of its own origin.

The page and its assets are built by `python -m gateway.playground_assets` into
static/playground/ and committed, so running the gateway needs no npm. Every asset's name
carries a hash of its content, so browsers may keep it for a year; the page is never cached. The
assets are gzipped for a browser that accepts it (`static_files.Compressed`).
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.types import Scope

from gateway.transport.static_files import Compressed, PageFiles, same_origin_policy

DIRECTORY = Path(__file__).parents[1] / "static" / "playground"
# Under /graphql, so a proxy that forwards only /graphql forwards the playground too. The page
# (at /graphql) names its assets relative to itself: `graphql/assets/<file>`.
ASSETS_PATH = "/graphql/assets"
IMMUTABLE = "public, max-age=31536000, immutable"
# The one inline style GraphiQL 3.8.3 adds: while a dialog or menu is open, its scroll lock
# (react-remove-scroll-bar) puts a <style> in <head>, with no way to give it a nonce from
# outside the bundle. Its text is fixed on this page, which has no scrollbar to measure, so
# its hash allows it and nothing else. Upgrading GraphiQL may change it: the browser test
# opens a dialog and fails on any CSP violation.
_SCROLL_LOCK_STYLE = "'sha256-Y/huXlwoYkVyQlxwSVcCi1RCDGDCSVBzDt0hYP9qlTc='"


def content_security_policy(host: str | None) -> str:
    """The page's CSP: this origin only, and GraphiQL's one inline style (`same_origin_policy`)."""
    return same_origin_policy(host, f"style-src 'self' {_SCROLL_LOCK_STYLE}")


class Playground:
    """The page (for `GraphQL.render_graphql_ide`) and the route of its assets.

    Reads the page at construction, so a package installed without its static files fails
    when the app is built rather than when a browser first asks.
    """

    def __init__(self, directory: Path = DIRECTORY) -> None:
        self._page = (directory / "index.html").read_bytes()
        self.assets = Mount(
            ASSETS_PATH, app=Compressed(PageFiles(directory=directory / "assets", headers=_hashed))
        )

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


def _hashed(scope: Scope) -> dict[str, str]:
    """Files whose names change with their content: cached for good."""
    return {"cache-control": IMMUTABLE}
