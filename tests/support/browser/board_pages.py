"""The task board as its browser tests drive it: a page signed in as a user and live, its task
rows, and a task created behind its back (through GraphQL, as another client would)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any, Final

from playwright.async_api import Browser, Locator, Page, expect

from tests.support.browser.board_stack import BoardStack
from tests.support.browser.pages import Watch, watched_page
from tests.support.gateway.gateway_harness import CREATE

LIVE_MS: Final = 30_000  # deadline for anything that travels through the broker


def task_rows(page: Page) -> Locator:
    return page.locator("#tasks li.task")


def task_row(page: Page, title: str) -> Locator:
    """The rows whose title is exactly `title`."""
    return task_rows(page).filter(
        has=page.locator(".title", has_text=re.compile(f"^{re.escape(title)}$"))
    )


@contextlib.asynccontextmanager
async def signed_in(
    browser: Browser, stack: BoardStack, user: str
) -> AsyncIterator[tuple[Page, Watch]]:
    """A page signed in as `user` through the sign-in link, live; clean when the test ends."""
    async with watched_page(browser) as (page, watch):
        await page.goto(stack.sign_in_link(user))
        await expect(page.locator("#connection")).to_have_text("live", timeout=LIVE_MS)
        yield page, watch
        assert await page.evaluate("window.cspViolations") == []
    assert watch.aborted == []
    assert watch.problems == []


async def create_task(stack: BoardStack, user: str, title: str, **fields: Any) -> dict[str, Any]:
    """A task created through GraphQL (not the page): its id, title and the fields asked."""
    data = await stack.graphql(user, CREATE, {"input": {"title": title, **fields}})
    assert data["createTask"]["userErrors"] == [], data
    task: dict[str, Any] = data["createTask"]["task"]
    return task
