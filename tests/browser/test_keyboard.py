"""The page with a keyboard only: the skip link comes first, every stop shows where the
focus is, and a form can be filled, checked and confirmed without a mouse."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from relevo.web.pages.texts import texts

from .journey import a_weekday_between, control_title, expect_banner, sign_in
from .server import Server

#: Tab presses allowed to reach one element before the test gives up.
MAX_TABS = 60


def test_skip_link_first_then_postpone_with_the_keyboard_only(page: Page, server: Server) -> None:
    words = texts("es")
    customer = server.new_customer()
    process_id = server.port_in(customer)
    sign_in(page, server, process_id, customer)

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name=words["skip"])
    expect(skip).to_be_focused()
    assert_focus_visible(page)
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, "the skip link shows on focus"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    title = control_title(server, process_id, "postpone", "es")
    tab_to(page, page.get_by_role("link", name=title))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    field = page.locator("input[name=new_date]")
    tab_to(page, field)
    earliest, latest = field.get_attribute("min"), field.get_attribute("max")
    assert earliest and latest
    day = a_weekday_between(earliest, latest)
    page.keyboard.type(typed_date(page, day))
    expect(field).to_have_value(day)

    tab_to(page, page.get_by_role("button", name=words["continue"]))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(words["check_title"])
    tab_to(page, page.get_by_role("button", name=words["confirm"]))
    page.keyboard.press("Enter")
    expect_banner(page, server, process_id, "postpone", "es")


def test_an_error_is_announced_and_its_link_leads_to_the_field(page: Page, server: Server) -> None:
    words = texts("es")
    customer = server.new_customer()
    process_id = server.port_in(customer)
    sign_in(page, server, process_id, customer)
    page.goto(f"/my/processes/{process_id}/controls/postpone")
    tab_to(page, page.get_by_role("button", name=words["continue"]))
    page.keyboard.press("Enter")  # nothing chosen
    expect(page.get_by_role("heading", level=2, name=words["errors_title"])).to_be_visible()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text(words["errors_title"])
    tab_to(page, summary.get_by_role("link"))
    page.keyboard.press("Enter")
    expect(page.locator("input[name=new_date]")).to_be_focused()


def typed_date(page: Page, day: str) -> str:
    """The keys that type the ISO ``day`` into this browser's date fields, whose order of
    day, month and year follows the browser's own language: found by typing 01, 02, 2025
    into a scratch field."""
    scratch = page.context.new_page()
    try:
        scratch.set_content('<input type="date" autofocus>')
        scratch.locator("input").focus()
        scratch.keyboard.type("01022025")
        probe = scratch.locator("input").input_value()
    finally:
        scratch.close()
    year, month, dom = day.split("-")
    orders = {"2025-02-01": dom + month + year, "2025-01-02": month + dom + year}
    assert probe in orders, f"a date field that reads {probe!r} after typing 01 02 2025"
    return orders[probe]


def tab_to(page: Page, target: Locator) -> None:
    """Press Tab until ``target`` has the focus, checking that every stop shows it."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        assert_focus_visible(page)
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{target} never got the focus with Tab")


def assert_focus_visible(page: Page) -> None:
    """The focused element draws a focus ring at least 2 px wide (WCAG 2.4.7)."""
    ring = page.evaluate(
        """() => {
            const element = document.activeElement;
            const style = getComputedStyle(element);
            return {tag: element.tagName, text: element.textContent.trim().slice(0, 40),
                    style: style.outlineStyle, width: parseFloat(style.outlineWidth)};
        }"""
    )
    assert ring["style"] != "none" and ring["width"] >= 2, ring
