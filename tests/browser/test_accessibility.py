"""axe-core finds no violation of WCAG 2.2 A and AA (nor its best practices) in any state
of the customer's pages, on a phone (360 px) and a laptop (1280 px), in Spanish and in
English. A full-page screenshot of each state and width goes to test-artifacts/."""

from __future__ import annotations

import pytest
from axe_playwright_python.base import AxeResults
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from relevo.web.pages.texts import texts

from .conftest import ARTIFACTS, DESKTOP, PHONE
from .server import Server
from .states import STATES

AXE = Axe()
#: WCAG 2.0, 2.1 and 2.2 at levels A and AA (target size included), and best practices.
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}


@pytest.mark.parametrize("locale", ["es-ES", "en-GB"])
@pytest.mark.parametrize("name", list(STATES))
def test_no_accessibility_violations(page: Page, server: Server, name: str, locale: str) -> None:
    lang = locale[:2]
    STATES[name](page, server, lang)
    assert page.locator("html").get_attribute("lang") == lang
    # Help is in the same place on every page, and leads somewhere (WCAG 3.2.6).
    help_link = page.get_by_role("navigation").get_by_role("link", name=texts(lang)["help"])
    target = help_link.get_attribute("href") or ""
    assert target.startswith("#") and page.locator(target).count() == 1, target
    page.evaluate(AXE.axe_script)  # once: the page stays, only its width changes
    problems = []
    for width, viewport in (("360", PHONE), ("1280", DESKTOP)):
        page.set_viewport_size(viewport)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{name}-{lang}-{width}.png", full_page=True)
        if width == "360":  # what a phone shows first (the README's pictures)
            page.screenshot(path=ARTIFACTS / f"{name}-{lang}-{width}-top.png")
        wide = page.evaluate("document.documentElement.scrollWidth")
        if wide > viewport["width"]:  # WCAG 1.4.10: no sideways scrolling
            problems.append(f"{name} in {lang} at {width} px scrolls sideways ({wide} px)")
        results = audit(page)
        if results.violations_count:
            problems.append(f"{name} in {lang} at {width} px: {results.generate_report()}")
    assert not problems, "\n".join(problems)


def audit(page: Page) -> AxeResults:
    """axe-core's findings on ``page`` as it is now (axe already loaded in it)."""
    return AxeResults(page.evaluate("options => axe.run(document, options)", AXE_OPTIONS))


def test_the_audit_finds_violations_where_there_are_some(page: Page) -> None:
    """The audit is wired right: a page with a tiny, unlabelled, faint button fails it."""
    page.set_content(
        '<html lang="en"><title>t</title><main><h1>Page</h1>'
        '<button style="width:10px;height:10px;color:#ccc;background:#fff"></button>'
        '<a href="#x" style="color:#ddd">faint</a></main></html>'
    )
    page.evaluate(AXE.axe_script)
    found = {row["id"] for row in audit(page).response["violations"]}
    assert {"button-name", "color-contrast"} <= found, found
