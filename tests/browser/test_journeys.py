"""A customer's journeys through their page in a real browser: from the link in their
message to postponing, sending a document, choosing how to fix a problem and cancelling —
in Spanish, and the same in English after using the language switch."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from relevo.services.access.codes import CODE_ATTEMPTS
from relevo.web.pages.texts import texts

from .journey import (
    a_weekday_between,
    ask_for_code,
    cancel,
    control_title,
    correct_id,
    expect_banner,
    open_cancel,
    png_file,
    postpone,
    sign_in,
    upload,
)
from .server import Server


def test_a_customer_follows_their_switch_and_acts_on_it(
    page: Page, server: Server, tmp_path: Path
) -> None:
    customer = server.new_customer()
    process_id = server.port_in(customer)
    walk_the_journey(page, server, process_id, "es", tmp_path)


def test_the_same_journey_in_english_after_the_language_switch(
    page: Page, server: Server, tmp_path: Path
) -> None:
    customer = server.new_customer()
    process_id = server.port_in(customer)
    sign_in(page, server, process_id, customer)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.get_by_role("navigation").get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible()
    walk_the_journey(page, server, process_id, "en", tmp_path, signed_in=True)


def walk_the_journey(
    page: Page, server: Server, process_id: str, lang: str, folder: Path, signed_in: bool = False
) -> None:
    """Status → postpone → (the donor rejects the ID) → upload → correct the ID → cancel
    with the code from the SMS (typed in Spanish, pasted as "123 456" in English)."""
    words = texts(lang)
    customer = server.hub.processes.get(process_id).customer_id
    if not signed_in:
        landed = sign_in(page, server, process_id, customer)
        assert landed.status == 200
        assert "/p/" not in page.url, "the token must leave the address bar"
    view = server.hub.view(process_id, lang)
    expect(page.get_by_role("heading", level=1)).to_have_text(view["headline"])
    expect(page.get_by_role("region", name=words["next_title"])).to_be_visible()

    old_window = _window(server, process_id, lang)["text"]
    day = postpone(page, server, process_id, lang)
    window = _window(server, process_id, lang)
    new_window = window["text"]
    assert window["at"].startswith(day) and new_window != old_window
    main = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        server.hub.view(process_id, lang)["headline"]
    )
    expect(page.get_by_role("region", name=words["dates_title"])).to_contain_text(new_window)
    new_day = re.split(r" a las | at ", new_window)[0]
    expect(page.get_by_role("region", name=words["stages_title"])).to_contain_text(new_day)
    expect(main).not_to_contain_text(old_window)

    server.reject(process_id, "RECH_IDENT")
    page.reload()
    expect(page.get_by_role("region", name=words["incidents_title"])).to_be_visible()
    upload(page, server, process_id, lang, png_file(folder))
    needed = server.hub.view(process_id, lang)["needed"][0]
    assert needed["state"] == "submitted"
    expect(page.get_by_role("region", name=words["needed_title"])).to_contain_text(
        needed["state_label"]
    )
    assert len(list(server.uploads.rglob("*.png"))) >= 1

    correct_id(page, server, process_id, lang, "12345678Z")
    cancel(page, server, process_id, lang, pasted=lang == "en")
    assert server.hub.processes.get(process_id).status == "cancelled"
    expect(page.get_by_role("heading", level=1)).to_have_text(
        server.hub.view(process_id, lang)["headline"]
    )


def test_a_wrong_code_says_how_many_tries_are_left_and_the_right_one_still_works(
    page: Page, server: Server
) -> None:
    words = texts("es")
    customer = server.new_customer()
    process_id = server.port_in(customer)
    sign_in(page, server, process_id, customer)
    open_cancel(page, server, process_id, "es")
    code = ask_for_code(page, server, process_id, "es")
    field = page.get_by_label(words["code_label"])
    field.fill(f"{(int(code) + 1) % 1_000_000:06d}")
    page.get_by_role("button", name=words["confirm"]).click()

    wrong = words["code_wrong"].replace("{left}", str(CODE_ATTEMPTS - 1))
    expect(page.get_by_role("alert")).to_contain_text(wrong)
    assert server.hub.processes.get(process_id).status == "active"
    field.fill(code)
    page.get_by_role("button", name=words["confirm"]).click()
    expect_banner(page, server, process_id, "cancel", "es")
    assert server.hub.processes.get(process_id).status == "cancelled"


def _window(server: Server, process_id: str, lang: str) -> dict[str, Any]:
    """The switch window's row among the important dates."""
    rows = server.hub.view(process_id, lang)["dates"]
    return dict(next(row for row in rows if row["id"] == "switch_window"))


def test_a_problems_section_is_not_named_like_the_parts_inside_it(
    page: Page, server: Server
) -> None:
    """A screen reader's list of headings tells the problem's section from its "what
    happened" part."""
    customer = server.new_customer()
    process_id = server.port_in(customer)
    server.reject(process_id, "RECH_IDENT")
    sign_in(page, server, process_id, customer)
    title = texts("es")["incidents_title"]
    inner = page.get_by_role("region", name=title).locator("h3, h4").all_inner_texts()
    assert len(inner) >= 4 and title not in inner, inner


def test_a_new_visit_is_booked_with_a_date_and_time_field(page: Page, server: Server) -> None:
    """A date-and-time input says which days it takes and opens the browser's picker,
    instead of a bare text box whose format the customer would have to guess."""
    words = texts("es")
    customer = server.new_customer()
    process_id = server.missed_visit(customer)
    sign_in(page, server, process_id, customer)
    title = control_title(server, process_id, "book_field_visit", "es")
    page.get_by_role("region", name=words["incidents_title"]).get_by_role(
        "link", name=title
    ).click()

    field = page.get_by_label(re.compile("Día y hora"))
    expect(field).to_have_attribute("type", "datetime-local")
    hint = page.locator("#" + (field.get_attribute("aria-describedby") or "missing"))
    expect(hint).to_contain_text("Elige un día entre")
    earliest = (field.get_attribute("min") or "")[:10]
    day = a_weekday_between(earliest, (field.get_attribute("max") or "")[:10])
    field.fill(f"{day}T09:30")
    page.get_by_role("button", name=words["continue"]).click()
    answer = page.get_by_role("definition").first
    expect(answer).to_contain_text(" a las 09:30")  # written for people, not 2025-03-05T09:30
    expect(answer).not_to_contain_text("T09:30")
    page.get_by_role("button", name=words["confirm"]).click()

    expect_banner(page, server, process_id, "book_field_visit", "es")
    appointment = server.hub.processes.get(process_id).dates["field_appointment"]
    assert appointment["at"].startswith(day), appointment
