"""Fixtures of the board's browser tests: one Chromium per session, one real stack per module."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright

from tests.support.browser.board_stack import BoardStack, board_stack
from tests.support.browser.chromium import chromium_launch

# One of the package's flags (a serverless function has one page): with it, the browser gives no
# page to any context after the first one closes, and these tests open a context per page.
SINGLE_PROCESS = "--single-process"


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Chromium for this test session (one per xdist worker); extracted once for all of them."""
    launch = await asyncio.to_thread(chromium_launch)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=launch.executable_path,
            args=[flag for flag in launch.args if flag != SINGLE_PROCESS],
        )
        yield browser
        await browser.close()


@pytest.fixture(scope="module")
async def stack(postgres_admin_url: str) -> AsyncIterator[BoardStack]:
    """Every service and the gateway, shared by a module's tests: each test has its own users."""
    async with board_stack(postgres_admin_url) as running:
        yield running
