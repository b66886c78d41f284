"""The task board: a single-page client of the public GraphQL API, served at `/`.

Plain HTML, CSS and ES modules from gateway/web/, with no build step and nothing from another
origin. The files keep their names from one release to the next, so browsers revalidate them
(`no-cache`, with the ETag StaticFiles sets) instead of keeping a stale copy; they are gzipped for
a browser that accepts it (`static_files.Compressed`). The page's CSP allows only this origin, and
WebSockets to this host for the subscriptions.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.types import Scope

from gateway.transport.static_files import Compressed, PageFiles, same_origin_policy

DIRECTORY = Path(__file__).parents[1] / "web"
ASSETS_PATH = "/web"
_HEADERS = {
    "cache-control": "no-cache",
    # The sign-in link carries its token in the fragment, which no Referer includes; this
    # keeps even the page's own path out of other servers' logs.
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}


def content_security_policy(host: str | None) -> str:
    """This origin only, no inline script or style (`same_origin_policy`)."""
    return same_origin_policy(host)


class Board:
    """The page's route and its assets' mount, read at construction (a missing file fails early)."""

    def __init__(self, directory: Path = DIRECTORY) -> None:
        self._page = (directory / "index.html").read_bytes()
        self.routes = [
            Route("/", self.page, methods=["GET", "HEAD"]),
            Mount(
                ASSETS_PATH,
                app=Compressed(PageFiles(directory=directory, headers=_asset_headers)),
            ),
        ]

    async def page(self, request: Request) -> Response:
        return HTMLResponse(
            self._page,
            headers={
                "content-security-policy": content_security_policy(request.headers.get("host")),
                **_HEADERS,
            },
        )


def _asset_headers(scope: Scope) -> dict[str, str]:
    """Always revalidated; index.html is here too (at /web/index.html) and keeps the page's policy."""
    host = dict(scope["headers"]).get(b"host", b"").decode("latin-1") or None
    return {**_HEADERS, "content-security-policy": content_security_policy(host)}
