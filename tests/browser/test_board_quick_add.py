"""The board's quick-add box in headless Chromium, against every real service: typing a line
highlights each part in the box (and lists it under the box), Enter creates the task, and a
refusal is shown by the box."""

from __future__ import annotations

import re
from typing import Any, TypedDict

from playwright.async_api import Browser, Page, expect

from tests.support.browser.board_pages import LIVE_MS, signed_in
from tests.support.browser.board_stack import BoardStack
from tests.support.gateway.gateway_harness import new_user

LINE = "Pay rent every month on the 1st at 9am #home !high remind 1 day before"
SHORT = "Call tomorrow 5pm #home !high"
# How far a mark may be from where its words are drawn in the box, in CSS pixels.
SLACK = 3.0

# The box and its backdrop as drawn: their boxes, scroll positions and texts, each mark's class,
# text and box, the width of the text before the first mark in the box's font, and what is on
# top at the middle of the first mark.
MEASURE = """() => {
  const input = document.getElementById("quick-add-input");
  const backdrop = document.getElementById("quick-add-backdrop");
  const box = (element) => {
    const { left, right, top, bottom } = element.getBoundingClientRect();
    return { left, right, top, bottom };
  };
  const style = getComputedStyle(input);
  const marks = [...backdrop.querySelectorAll("mark")];
  const before = marks.length ? input.value.slice(0, input.value.indexOf(marks[0].textContent)) : "";
  const context = document.createElement("canvas").getContext("2d");
  context.font = style.font;
  const first = marks.length ? box(marks[0]) : null;
  const onTop = first && document.elementFromPoint((first.left + first.right) / 2, (first.top + first.bottom) / 2);
  return {
    input: box(input),
    inset: parseFloat(style.borderLeftWidth) + parseFloat(style.paddingLeft),
    background: style.backgroundColor,
    value: input.value,
    text: backdrop.textContent,
    scroll: input.scrollLeft,
    backdropScroll: backdrop.scrollLeft,
    overflows: input.scrollWidth > input.clientWidth,
    marks: marks.map((mark) => ({ class: mark.className, text: mark.textContent, box: box(mark) })),
    before: context.measureText(before).width,
    inputOnTop: onTop === input,
  };
}"""
# Edits the box as typing would (an input event), and answers the marks right after it, before
# any new answer: `at` null appends.
EDIT = """([text, at]) => {
  const input = document.getElementById("quick-add-input");
  const where = at ?? input.value.length;
  input.setRangeText(text, where, where, "end");
  input.dispatchEvent(new InputEvent("input", { bubbles: true, inputType: "insertText", data: text }));
  const backdrop = document.getElementById("quick-add-backdrop");
  return {
    text: backdrop.textContent,
    marks: [...backdrop.querySelectorAll("mark")].map((mark) => [mark.className, mark.textContent]),
  };
}"""


# The backdrop is scrolled as the box is: scrolled on (`true`, the caret at the end of a long
# line) or back at the start (`false`).
FOLLOWS = """(scrolled) => {
  const input = document.getElementById("quick-add-input");
  const backdrop = document.getElementById("quick-add-backdrop");
  return (input.scrollLeft > 0) === scrolled && Math.abs(backdrop.scrollLeft - input.scrollLeft) < 1;
}"""


class Box(TypedDict):
    left: float
    right: float
    top: float
    bottom: float


def _within(inner: Box, outer: Box) -> bool:
    return (
        inner["left"] >= outer["left"] - SLACK
        and inner["right"] <= outer["right"] + SLACK
        and inner["top"] >= outer["top"] - SLACK
        and inner["bottom"] <= outer["bottom"] + SLACK
    )


async def _measure(page: Page) -> dict[str, Any]:
    measured: dict[str, Any] = await page.evaluate(MEASURE)
    return measured


def _drawn_at(measured: dict[str, Any]) -> float:
    """Where the box draws the first mark's words: after its border, its padding and the text
    before them, less what it is scrolled by."""
    box: Box = measured["input"]
    inset: float = measured["inset"]
    before: float = measured["before"]
    scroll: float = measured["scroll"]
    return box["left"] + inset + before - scroll


async def _marks(page: Page) -> list[tuple[str, str]]:
    measured = await _measure(page)
    return [(mark["class"], mark["text"]) for mark in measured["marks"]]


async def test_typing_a_line_highlights_its_parts_and_enter_creates_the_task(
    browser: Browser, stack: BoardStack
) -> None:
    async with signed_in(browser, stack, new_user()) as (page, _watch):
        box = page.get_by_label("Quick add")
        await box.focus()
        await page.keyboard.type(LINE)
        chips = page.locator("#quick-add-parts li")
        await expect(chips).to_have_count(5, timeout=LIVE_MS)
        fields = [await chip.get_attribute("data-field") for chip in await chips.all()]
        texts = [await chip.locator(".chip-text").inner_text() for chip in await chips.all()]
        assert list(zip(fields, texts, strict=True)) == [
            ("TITLE", "Pay rent"),
            ("RECURRENCE", "every month on the 1st at 9am"),
            ("TAG", "#home"),
            ("PRIORITY", "!high"),
            ("REMINDER", "remind 1 day before"),
        ]
        marks = page.locator("#quick-add-backdrop mark")
        await expect(marks).to_have_count(4)
        assert await _marks(page) == [
            ("qa-recurrence", "every month on the 1st at 9am"),
            ("qa-tag", "#home"),
            ("qa-priority", "!high"),
            ("qa-reminder", "remind 1 day before"),
        ]

        # Longer than the box: the backdrop scrolls with it, so the last part, at the caret, is
        # marked under its words; back at the start, the first one starts after "Pay rent ".
        measured = await _measure(page)
        assert measured["overflows"]
        assert measured["text"] == LINE
        await page.wait_for_function(FOLLOWS, arg=True)
        measured = await _measure(page)
        assert _within(measured["marks"][-1]["box"], measured["input"]), measured
        await page.keyboard.press("Home")
        await page.wait_for_function(FOLLOWS, arg=False)
        measured = await _measure(page)
        assert abs(measured["marks"][0]["box"]["left"] - _drawn_at(measured)) <= SLACK, measured
        await page.keyboard.press("End")

        await page.keyboard.press("Enter")
        task = page.locator("#tasks li.task").filter(
            has=page.locator(".title", has_text=re.compile("^Pay rent$"))
        )
        await expect(task).to_have_count(1, timeout=LIVE_MS)
        await expect(task).to_contain_text("home")
        await expect(box).to_have_value("")
        await expect(chips).to_have_count(0)
        await expect(marks).to_have_count(0)

        # Nothing left for a title: the box says so and keeps the line.
        await box.fill("#home !high tomorrow")
        await page.keyboard.press("Enter")
        await expect(page.locator("#quick-add-errors")).to_contain_text("title")
        await expect(box).to_have_attribute("aria-invalid", "true")
        await expect(box).to_have_value("#home !high tomorrow")


async def test_each_part_is_marked_under_its_words_in_the_box(
    browser: Browser, stack: BoardStack
) -> None:
    async with signed_in(browser, stack, new_user()) as (page, _watch):
        box = page.get_by_label("Quick add")
        await box.focus()
        await page.keyboard.type(SHORT)
        await expect(page.locator("#quick-add-backdrop mark")).to_have_count(3, timeout=LIVE_MS)
        expected = [("qa-due", "tomorrow 5pm"), ("qa-tag", "#home"), ("qa-priority", "!high")]
        assert await _marks(page) == expected
        # Screen readers hear the parts as the box's description.
        await expect(box).to_have_accessible_description(re.compile("due tomorrow 5pm"))

        measured = await _measure(page)
        assert not measured["overflows"], "the line should fit the box for this test"
        assert measured["text"] == measured["value"] == SHORT
        for mark in measured["marks"]:
            assert _within(mark["box"], measured["input"]), (mark, measured["input"])
        # The first mark starts where "tomorrow" is drawn: after the border, the padding and
        # "Call " in the box's font.
        assert abs(measured["marks"][0]["box"]["left"] - _drawn_at(measured)) <= SLACK, measured
        # The box is on top (its text is what is selected and edited) and lets the marks show.
        assert measured["inputOnTop"]
        assert measured["background"] == "rgba(0, 0, 0, 0)"

        # Marks only words still read that way: typing on at the end keeps them, an edit before
        # them drops them at once (the text shifted), until the answer for the new line.
        edited: dict[str, Any] = await page.evaluate(EDIT, [" call", None])
        assert edited == {"text": f"{SHORT} call", "marks": [list(mark) for mark in expected]}
        edited = await page.evaluate(EDIT, ["Re", 0])
        assert edited == {"text": f"Re{SHORT} call", "marks": []}
        await expect(page.locator("#quick-add-backdrop mark")).to_have_count(3, timeout=LIVE_MS)
        assert await _marks(page) == expected
        measured = await _measure(page)
        assert measured["text"] == f"Re{SHORT} call"

        await page.keyboard.press("Enter")
        task = page.locator("#tasks li.task").filter(
            has=page.locator(".title", has_text=re.compile("^ReCall call$"))
        )
        await expect(task).to_have_count(1, timeout=LIVE_MS)
        await expect(task).to_contain_text("home")
