"""A browser page that may reach only this host, and a record of what it did: every request,
the ones aborted, and whatever went wrong (console errors, page errors, 4xx and 5xx answers,
failed requests). The page must work from the gateway's own files, as on a machine with no way
to a CDN; the CSP violations it met are in `window.cspViolations`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.async_api import Browser, ConsoleMessage, Page, Response, Route

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
# Runs in every document before its own scripts (injected by the browser, so the CSP allows it).
RECORD_CSP_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@dataclass
class Watch:
    """What a page did: every request, the ones aborted, and whatever went wrong."""

    requested: list[str] = field(default_factory=list)
    aborted: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # console errors, page errors, failures

    async def only_local(self, route: Route) -> None:
        self.requested.append(route.request.url)
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            await route.continue_()
        else:
            self.aborted.append(route.request.url)
            await route.abort("blockedbyclient")

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type in {"error", "warning"}:
            self.problems.append(f"console {message.type}: {message.text}")

    def on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.problems.append(f"{response.status}: {response.url}")


@contextlib.asynccontextmanager
async def watched_page(browser: Browser) -> AsyncIterator[tuple[Page, Watch]]:
    """A page in a fresh context that may reach only this host, and what it did."""
    watch = Watch()
    context = await browser.new_context()
    try:
        await context.route("**/*", watch.only_local)
        await context.add_init_script(RECORD_CSP_VIOLATIONS)
        page = await context.new_page()
        page.on("console", watch.on_console)
        page.on("response", watch.on_response)
        page.on("pageerror", lambda error: watch.problems.append(f"page error: {error}"))
        page.on("requestfailed", lambda request: watch.problems.append(f"failed: {request.url}"))
        yield page, watch
    finally:
        await context.close()
