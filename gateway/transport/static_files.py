"""What the gateway's two pages (the playground and the task board) share: their files with exact
media types and headers of each page's choosing, gzip for clients that accept it, and the host
check their Content-Security-Policy relies on."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MEDIA_TYPES = {
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


def safe_host(host: str | None) -> str | None:
    """`host` (a Host header) when it can be put into a CSP source as it is, else None."""
    return host if host is not None and _HOST.fullmatch(host) else None


class PageFiles(StaticFiles):
    """A page's files: exact media types (nosniff) and the headers `headers(scope)` gives."""

    def __init__(self, *, directory: Path, headers: Callable[[Scope], Mapping[str, str]]) -> None:
        super().__init__(directory=directory)
        self._headers = headers

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        media_type = MEDIA_TYPES.get(Path(full_path).suffix)
        if media_type is not None:
            response.headers["content-type"] = media_type
        response.headers["x-content-type-options"] = "nosniff"
        response.headers.update(self._headers(scope))
        return response


# zlib's default: level 9's saving within 1% (GraphiQL's 3.5 MB bundle becomes 0.73 MB) in about
# half its time, which the event loop spends on each request.
GZIP_LEVEL = 6
# Compressed already: GZipMiddleware leaves these media types alone.
_NOT_GZIPPED = frozenset({".png", ".woff", ".woff2"})


class Compressed:
    """`files` gzipped for a client whose Accept-Encoding has gzip (Starlette's GZipMiddleware:
    text, scripts, styles and SVG of 500 bytes or more; fonts and PNGs are compressed already).

    Every response says `Vary: Accept-Encoding`, so a shared cache never hands gzip to a client
    that did not ask for it. The gzip body is another representation than the file's, so its
    ETag is made weak (as nginx does): a revalidation with it still matches (StaticFiles compares
    If-None-Match weakly), and no cache takes it for the file's exact bytes.
    """

    def __init__(self, files: ASGIApp) -> None:
        self._app = GZipMiddleware(files, compresslevel=GZIP_LEVEL)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        accepts_gzip = "gzip" in Headers(scope=scope).get("accept-encoding", "")
        gzippable = Path(scope["path"]).suffix not in _NOT_GZIPPED

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=message["headers"])
                vary = headers.get("vary", "")
                if "accept-encoding" not in vary.lower():
                    headers.add_vary_header("Accept-Encoding")
                etag = headers.get("etag")
                gzipped = headers.get("content-encoding") == "gzip"
                revalidated = message["status"] == 304 and accepts_gzip and gzippable
                if etag and not etag.startswith("W/") and (gzipped or revalidated):
                    headers["etag"] = f"W/{etag}"
            await send(message)

        await self._app(scope, receive, send_marked)


def same_origin_policy(host: str | None, *extra: str) -> str:
    """A page's CSP: everything from this origin only, plus the `extra` directives.

    `connect-src` names the page's host with `ws:` and `wss:` too: 'self' matches WebSocket URLs
    only in browsers that follow CSP Level 3, and older ones are still about. A `Host` that is not
    a plain host and port adds nothing. The directives that do not fall back to `default-src` are
    closed.
    """
    connect = "'self'"
    allowed = safe_host(host)
    if allowed is not None:
        connect += f" ws://{allowed} wss://{allowed}"
    return "; ".join(
        (
            "default-src 'self'",
            *extra,
            f"connect-src {connect}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )
