"""Who gets in, in a real browser: an expired link, an altered link, a link used up (and
the new one asked for in its place or by the reference), a link in English, and another
customer's process typed into the address bar."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, BrowserContext, Page, expect

from relevo.services.access.links import LINK_GRACE, LINK_USES
from relevo.web.pages.session import COOKIE
from relevo.web.pages.texts import texts

from .journey import sign_in
from .server import Server


def test_an_expired_link_says_so_and_signs_nobody_in(
    page: Page, context: BrowserContext, server: Server
) -> None:
    customer = server.new_customer()
    process_id = server.port_in(customer)
    response = page.goto(server.link(process_id, customer, hours=-1))
    assert response is not None and response.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text(texts("es")["link_expired_title"])
    assert not session_cookies(context)
    assert server.subject(process_id) not in page.content()


def test_a_tampered_link_is_refused(page: Page, context: BrowserContext, server: Server) -> None:
    customer = server.new_customer()
    process_id = server.port_in(customer)
    link = server.link(process_id, customer)
    altered = link[:-4] + ("AAAA" if not link.endswith("AAAA") else "BBBB")
    response = page.goto(altered)
    assert response is not None and response.status == 400
    expect(page.get_by_role("heading", level=1)).to_have_text(texts("es")["link_invalid_title"])
    assert not session_cookies(context)


def test_a_link_signs_in_a_few_times_then_offers_a_new_one_in_one_click(
    browser: Browser, server: Server
) -> None:
    """Within the grace after its first use a link signs in on up to LINK_USES devices (a
    double click, a preview, the phone after the laptop); the next gets "already used" and
    a button that sends a new link to the mobile on file, which signs in."""
    words = texts("es")
    customer = server.new_customer()
    process_id = server.port_in(customer)
    link = server.link(process_id, customer)
    with devices(browser, server, LINK_USES + 2) as tabs:
        for tab in tabs[:LINK_USES]:
            response = tab.goto(link)
            assert response is not None and response.status == 200
            expect(tab).to_have_url(re.compile(f"/my/processes/{process_id}$"))
        late = tabs[LINK_USES]
        expect_used_up(late, server, process_id, link)

        late.get_by_role("button", name=words["new_link_button"]).click()
        expect(late.get_by_role("heading", level=1)).to_have_text(words["new_link_sent_title"])
        new_link = server.inbox.last_link()
        assert server.inbox.access_sms()[-1].to == "+34" + server.subject(process_id)
        assert new_link != link
        elsewhere = tabs[LINK_USES + 1]
        response = elsewhere.goto(new_link)
        assert response is not None and response.status == 200
        expect(elsewhere.get_by_role("main")).to_contain_text(server.subject(process_id))


def test_after_ten_minutes_a_used_link_no_longer_signs_in(browser: Browser, server: Server) -> None:
    customer = server.new_customer()
    process_id = server.port_in(customer)
    link = server.link(process_id, customer)
    with devices(browser, server, 2) as (first, second):
        response = first.goto(link)
        assert response is not None and response.status == 200
        with server.later(seconds=LINK_GRACE.total_seconds() + 60):
            expect_used_up(second, server, process_id, link)


def test_a_new_link_by_the_reference(page: Page, context: BrowserContext, server: Server) -> None:
    """Someone who lost their link types the reference from their messages; an
    empty field gets the error first."""
    words = texts("es")
    customer = server.new_customer()
    process_id = server.port_in(customer)
    page.goto("/p/new")
    expect(page.get_by_role("heading", level=1)).to_have_text(words["new_link_title"])
    send = page.get_by_role("button", name=words["new_link_button"])
    send.click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(words["required"])
    alert.get_by_role("link").click()
    field = page.get_by_label(words["reference_label"])
    expect(field).to_be_focused()
    field.fill(f"  {process_id} ")
    send.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["new_link_sent_title"])
    assert not session_cookies(context), "asking for a link signs nobody in"
    page.goto(server.inbox.last_link())
    expect(page).to_have_url(re.compile(f"/my/processes/{process_id}$"))


def test_a_link_asking_for_english_opens_the_page_in_english(page: Page, server: Server) -> None:
    customer = server.new_customer()
    process_id = server.port_in(customer)
    response = page.goto(server.link(process_id, customer) + "?lang=en")
    assert response is not None and response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert "/p/" not in page.url
    page.goto(f"/my/processes/{process_id}")  # the choice is remembered
    expect(page.locator("html")).to_have_attribute("lang", "en")


def expect_used_up(tab: Page, server: Server, process_id: str, link: str) -> None:
    """``link`` opened in ``tab`` (a browser not signed in) says it was used, and shows
    nothing of the process."""
    response = tab.goto(link)
    assert response is not None and response.status == 410
    expect(tab.get_by_role("heading", level=1)).to_have_text(texts("es")["link_used_title"])
    assert server.subject(process_id) not in tab.content()
    assert not session_cookies(tab.context)


def session_cookies(context: BrowserContext) -> list[str]:
    """The session cookies ``context`` holds (the new-link form's CSRF cookie is not one)."""
    return [cookie["value"] for cookie in context.cookies() if cookie["name"] == COOKIE]


@contextmanager
def devices(browser: Browser, server: Server, how_many: int) -> Iterator[list[Page]]:
    """A tab in each of ``how_many`` fresh browser profiles (no cookies, in Spanish)."""
    profiles = [
        browser.new_context(base_url=server.base_url, locale="es-ES") for _ in range(how_many)
    ]
    try:
        yield [profile.new_page() for profile in profiles]
    finally:
        for profile in profiles:
            profile.close()


def test_another_customers_process_reads_like_one_that_does_not_exist(
    page: Page, server: Server
) -> None:
    mine_customer, their_customer = server.new_customer(), server.new_customer()
    mine = server.port_in(mine_customer)
    theirs = server.port_in(their_customer)
    sign_in(page, server, mine, mine_customer)

    other = page.goto(f"/my/processes/{theirs}")
    other_text = page.get_by_role("main").inner_text()
    missing = page.goto("/my/processes/prc_doesnotexist000000000")
    missing_text = page.get_by_role("main").inner_text()

    assert other is not None and missing is not None
    assert other.status == missing.status == 404
    assert other_text == missing_text
    assert server.subject(theirs) not in other_text
    page.goto("/my")
    expect(page.get_by_role("main")).to_contain_text(server.subject(mine))
    expect(page.get_by_role("main")).not_to_contain_text(server.subject(theirs))
