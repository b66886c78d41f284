"""The playground in headless Chromium that may reach nothing but the gateway.

Chromium comes from the @sparticuz/chromium npm package (tests/browser), driven by Playwright.
Every request to a host other than this one is aborted and recorded: the page must work from
the gateway's own files, as on a machine with no way to a CDN.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import (
    Browser,
    Page,
    async_playwright,
    expect,
)

from gateway.transport.playground import content_security_policy
from tests.support.browser.chromium import chromium_launch
from tests.support.browser.pages import LOCAL_HOSTS, watched_page
from tests.support.gateway.gateway_harness import CREATE, make_config, new_user, serving, token_for
from tests.support.infra import RunningTasks

HEADERS_TEMPLATE = '"Authorization": "Bearer <paste a token from: todo token USER>"'
# What GraphiQL's WebSocket client does first: graphql-transport-ws with the token in the payload.
OPEN_WEBSOCKET = """([url, authorization]) => new Promise((resolve) => {
  const socket = new WebSocket(url, "graphql-transport-ws");
  socket.onopen = () => socket.send(JSON.stringify(
    {type: "connection_init", payload: {Authorization: authorization}}));
  socket.onmessage = (event) => { socket.close(); resolve(JSON.parse(event.data).type); };
  socket.onerror = () => resolve("error");
})"""


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Chromium for this test session (one per xdist worker); extracted once for all of them."""
    launch = await asyncio.to_thread(chromium_launch)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=launch.executable_path, args=launch.args
        )
        yield browser
        await browser.close()


async def _paste_into(page: Page, editor: str, text: str) -> None:
    """Replaces a GraphiQL editor's text as a paste would (no auto-closed brackets)."""
    await page.locator(editor).click()
    await page.keyboard.press("Control+A")
    await page.keyboard.insert_text(text)


async def test_the_playground_runs_a_signed_in_query_offline(
    browser: Browser, tasks_service: RunningTasks
) -> None:
    authorization = f"Bearer {token_for(new_user())}"
    config = make_config(tasks_service.address, internal_secret=tasks_service.secret)
    async with serving(config) as ws_url, watched_page(browser) as (page, watch):
        url = ws_url.replace("ws://", "http://")
        async with httpx.AsyncClient() as http:
            created = await http.post(
                url,
                json={"query": CREATE, "variables": {"input": {"title": "seen in the playground"}}},
                headers={"Authorization": authorization},
            )
        assert "errors" not in created.json()

        response = await page.goto(url)
        assert response is not None
        assert response.headers["content-security-policy"] == content_security_policy(
            urlsplit(url).netloc
        )

        # The editors open on a Relay query, a mutation with its userErrors, and a header to
        # fill in.
        query_editor = ".graphiql-query-editor .CodeMirror"
        headers_editor = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
        await expect(page.locator(query_editor)).to_contain_text("tasks(first: 10)")
        await expect(page.locator(query_editor)).to_contain_text("as after:")
        await expect(page.locator(query_editor)).to_contain_text("mutation AddTask")
        await expect(page.locator(query_editor)).to_contain_text(
            "userErrors { field message code }"
        )
        await expect(page.locator(headers_editor)).to_contain_text(HEADERS_TEMPLATE)

        # With a pasted token, the default query lists this user's task (the run button asks
        # which of the two operations to run).
        await _paste_into(page, headers_editor, json.dumps({"Authorization": authorization}))
        await page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
        await page.get_by_role("menuitem", name="Tasks").click()
        result = page.locator(".graphiql-response .result-window")
        await expect(result).to_contain_text('"totalCount": 1')
        await expect(result).to_contain_text('"title": "seen in the playground"')
        await expect(result).to_contain_text('"hasNextPage": false')

        # The mutation as written creates a task: no userErrors.
        await page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
        await page.get_by_role("menuitem", name="AddTask").click()
        await expect(result).to_contain_text('"title": "Try the playground"')
        await expect(result).to_contain_text('"userErrors": []')
        # The token is kept for this browser tab only, not in localStorage.
        assert await page.evaluate("window.localStorage.length") == 0
        token = authorization.removeprefix("Bearer ")
        assert token in await page.evaluate("JSON.stringify(window.sessionStorage)")

        # The CSP lets the page open its WebSocket; the gateway acks the same token there.
        assert await page.evaluate(OPEN_WEBSOCKET, [ws_url, authorization]) == "connection_ack"

        # A dialog adds GraphiQL's one inline style, which the CSP allows by its hash.
        await page.get_by_role("button", name="Open settings dialog").click()
        await expect(page.get_by_role("dialog")).to_be_visible()
        await page.keyboard.press("Escape")
        await expect(page.get_by_role("dialog")).to_have_count(0)

        assert await page.evaluate("window.cspViolations") == []
    assert watch.aborted == []
    assert [url for url in watch.requested if urlsplit(url).hostname not in LOCAL_HOSTS] == []
    assert len(watch.requested) >= 7  # the page, its scripts and stylesheets, fonts, GraphQL
    assert watch.problems == []
