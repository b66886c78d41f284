"""The sign-in link a real `todo up` prints opens a live board as `dev`, and no log holds the token."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from playwright.async_api import Browser, expect

from tests.support.browser.pages import watched_page
from tests.support.stack_harness import Stack, stack_environment
from todo_cli.broker import free_port

LINK = re.compile(r"http://\S+/#token=(\S+)")
LIVE_MS = 60_000


async def test_the_link_todo_up_prints_signs_the_browser_in(
    browser: Browser, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    env = {**stack_environment(data), "TODO_LIVE_PORT": str(free_port())}
    stack = Stack(env)
    try:
        await asyncio.to_thread(stack.wait_for, "todo stack ready")
        await asyncio.to_thread(stack.wait_for, "task board:")
        found = LINK.search(stack.seen[-1])
        assert found is not None, stack.seen[-1]
        link, token = found.group(0), found.group(1)
        assert link.startswith(f"http://127.0.0.1:{env['TODO_GATEWAY_PORT']}/#token=")
        async with watched_page(browser) as (page, watch):
            await page.goto(link)
            await expect(page.locator("#who")).to_have_text("signed in as dev")
            await expect(page.locator("#connection")).to_have_text("live", timeout=LIVE_MS)
            assert "#" not in page.url
            form = page.locator("#create-form")
            await form.get_by_label("Title").fill("From the todo up link")
            await form.get_by_role("button", name="Add task").click()
            await expect(page.locator("#tasks .title")).to_have_text(["From the todo up link"])
        assert watch.problems == []
        assert [url for url in watch.requested if token in url] == []
    finally:
        await asyncio.to_thread(stack.stop)
    logs = list((data / "logs").iterdir())
    assert logs
    assert [log.name for log in logs if token in log.read_text(errors="replace")] == []
