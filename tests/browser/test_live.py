"""The open page follows the process: when a back-end event arrives, the page shows it
without a reload, says so in its polite live region, and leaves the customer's focus where
it was.

The page asks about every 20 seconds (``static/page/live.js``). Rather than wait, the tests
install Playwright's fake clock in the page and move it to the next check: the script
runs exactly as in a customer's browser, only its timers are driven by the test."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from api.builders import event

from .journey import control_title, next_check, sign_in
from .server import Server


def open_live_page(page: Page, server: Server, lang: str = "es") -> str:
    """A port-in waiting for the donor, its page open on a fake clock; its id."""
    customer = server.new_customer()
    process_id = server.port_in(customer)
    page.clock.install()
    sign_in(page, server, process_id, customer)
    if lang != "es":
        page.goto(f"/my/processes/{process_id}?lang={lang}")
    page.evaluate("() => { window.notReloaded = true; }")
    return process_id


def test_the_page_updates_itself_when_the_donor_confirms(page: Page, server: Server) -> None:
    process_id = open_live_page(page, server)
    before = server.hub.view(process_id, "es")["headline"]
    expect(page.get_by_role("heading", level=1)).to_have_text(before)
    postpone = page.get_by_role("link", name=control_title(server, process_id, "postpone", "es"))
    postpone.focus()

    server.send(event("donor.confirmed", {"msisdn": server.subject(process_id)}))
    assert next_check(page) == 200

    headline = server.hub.view(process_id, "es")["headline"]
    assert headline != before
    expect(page.get_by_role("heading", level=1)).to_have_text(headline)
    assert page.evaluate("() => window.notReloaded === true"), "the page must not reload"
    note = page.locator("#live-note")
    expect(note).to_have_attribute("aria-live", "polite")
    expect(note).to_contain_text(headline)
    expect(postpone).to_be_focused()


def test_nothing_is_announced_while_nothing_changes(page: Page, server: Server) -> None:
    """The page keeps asking (a 304 each time after the first answer) and says nothing."""
    process_id = open_live_page(page, server, "en")
    headline = server.hub.view(process_id, "en")["headline"]
    answers = [next_check(page) for _ in range(3)]
    assert answers == [200, 304, 304], answers
    expect(page.get_by_role("heading", level=1)).to_have_text(headline)
    expect(page.locator("#live-note")).to_be_empty()
    assert page.evaluate("() => window.notReloaded === true")
