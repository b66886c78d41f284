"""Undo on the board in headless Chromium, against every real service behind the gateway: the
toast's Undo after a change, and Undo/Restore in a task's history."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.support.browser.board_pages import LIVE_MS, create_task, signed_in, task_row
from tests.support.browser.board_stack import BoardStack
from tests.support.gateway.gateway_harness import new_user


async def test_undo_after_completing_and_deleting_puts_the_task_back(
    browser: Browser, stack: BoardStack
) -> None:
    user = new_user()
    await create_task(stack, user, "Call the plumber")
    async with signed_in(browser, stack, user) as (page, _):
        task = task_row(page, "Call the plumber")
        await page.get_by_role("button", name="Complete Call the plumber").click()
        await expect(task.and_(page.locator(".done"))).to_have_count(1)
        toast = page.locator("#undo-toast")
        await expect(toast).to_contain_text("Completed")
        await toast.get_by_role("button", name="Undo").click()
        await expect(toast).to_contain_text("Undone.", timeout=LIVE_MS)
        await expect(task.and_(page.locator(".done"))).to_have_count(0)
        await expect(page.get_by_role("button", name="Complete Call the plumber")).to_be_visible()

        await page.get_by_role("button", name="Delete Call the plumber").click()
        await expect(task).to_have_count(0)
        await toast.get_by_role("button", name="Undo").click()
        await expect(task).to_have_count(1, timeout=LIVE_MS)
    data = await stack.graphql(user, "{ tasks { edges { node { title status } } } }", {})
    assert [edge["node"] for edge in data["tasks"]["edges"]] == [
        {"title": "Call the plumber", "status": "OPEN"}
    ]


async def test_undo_from_the_history_timeline(browser: Browser, stack: BoardStack) -> None:
    user = new_user()
    await create_task(stack, user, "Draft")
    async with signed_in(browser, stack, user) as (page, _):
        await page.get_by_role("button", name="Complete Draft").click()
        await expect(task_row(page, "Draft").and_(page.locator(".done"))).to_have_count(1)
        await page.get_by_role("button", name="History of Draft").click()
        timeline = page.locator("#history")
        completed = timeline.locator("li.entry").filter(has_text="OPEN → COMPLETED")
        await expect(completed).to_have_count(1, timeout=LIVE_MS)
        await completed.get_by_role("button", name="Undo").click()
        await expect(page.locator("#undo-toast")).to_contain_text("Undone.", timeout=LIVE_MS)
        await page.locator("#history-close").click()
        await expect(task_row(page, "Draft").and_(page.locator(".done"))).to_have_count(0)
