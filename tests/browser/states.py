"""Every state a customer's page can be in, each reached the way a customer reaches it:
a process set up through the hub with back-end events, the customer's link, and then the
clicks and forms that lead there. Each state takes ``(page, server, lang)`` and leaves the
page showing that state; the accessibility test audits each one."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from api.builders import event
from relevo.services.access.links import LINK_USES
from relevo.services.access.links import PER_REFERENCE as LINK_REQUESTS
from relevo.web.pages.texts import texts

from .journey import (
    a_weekday_between,
    ask_for_code,
    next_check,
    png_file,
    postpone,
    sign_in,
)
from .server import Server

State = Callable[[Page, Server, str], None]
STATES: dict[str, State] = {}


def state(function: State) -> State:
    """Register ``function`` as a page state named after it."""
    STATES[function.__name__] = function
    return function


def _signed_in(page: Page, server: Server, process_id: str) -> None:
    sign_in(page, server, process_id, server.hub.processes.get(process_id).customer_id)


def _new_port_in(server: Server, *, confirmed: bool = False) -> str:
    return server.port_in(server.new_customer(), confirmed=confirmed)


def _open_control(page: Page, server: Server, process_id: str, control_id: str) -> None:
    page.goto(f"/my/processes/{process_id}/controls/{control_id}")


def _continue(page: Page, lang: str) -> None:
    page.get_by_role("button", name=texts(lang)["continue"]).click()


# The pages of a process, one per situation.


@state
def process_list(page: Page, server: Server, lang: str) -> None:
    customer = server.new_customer()
    active = server.port_in(customer)
    done = server.port_in(customer, confirmed=True)
    server.send(event("port.executed", {"msisdn": server.subject(done)}))
    ended = server.port_in(customer)
    server.send(event("nc.cancelled", {"msisdn": server.subject(ended), "cause": "CANC_ABONA"}))
    sign_in(page, server, active, customer)
    page.goto("/my")


@state
def process_checking(page: Page, server: Server, lang: str) -> None:
    _signed_in(page, server, _new_port_in(server))


@state
def process_scheduled(page: Page, server: Server, lang: str) -> None:
    _signed_in(page, server, _new_port_in(server, confirmed=True))


@state
def process_id_rejected(page: Page, server: Server, lang: str) -> None:
    process_id = _new_port_in(server)
    server.reject(process_id, "RECH_IDENT")
    _signed_in(page, server, process_id)


@state
def process_sim_rejected(page: Page, server: Server, lang: str) -> None:
    process_id = _new_port_in(server)
    server.reject(process_id, "RECH_ICCID")
    _signed_in(page, server, process_id)


@state
def process_number_inactive(page: Page, server: Server, lang: str) -> None:
    process_id = _new_port_in(server)
    server.reject(process_id, "RECH_BNUME")
    _signed_in(page, server, process_id)


@state
def process_postponed_banner(page: Page, server: Server, lang: str) -> None:
    process_id = _new_port_in(server)
    _signed_in(page, server, process_id)
    postpone(page, server, process_id, lang)


@state
def process_document_in_review(page: Page, server: Server, lang: str) -> None:
    process_id = _new_port_in(server)
    server.reject(process_id, "RECH_IDENT")
    _signed_in(page, server, process_id)
    _open_control(page, server, process_id, "send_id_document")
    page.locator("input[type=file]").set_input_files(png_file(_scratch(server)))
    page.get_by_role("button", name=texts(lang)["confirm"]).click()
    expect(page.get_by_role("status").filter(has_text=texts(lang)["done_title"])).to_be_visible()


@state
def process_past_cut_off(page: Page, server: Server, lang: str) -> None:
    process_id = _new_port_in(server, confirmed=True)
    with server.later(hours=29):  # Tuesday 15:00 in Madrid: the cut-off was 14:00
        _signed_in(page, server, process_id)


@state
def process_completed(page: Page, server: Server, lang: str) -> None:
    process_id = _new_port_in(server, confirmed=True)
    server.send(event("port.executed", {"msisdn": server.subject(process_id)}))
    _signed_in(page, server, process_id)


@state
def process_cancelled(page: Page, server: Server, lang: str) -> None:
    process_id = _new_port_in(server)
    msisdn = server.subject(process_id)
    server.send(event("nc.cancelled", {"msisdn": msisdn, "cause": "CANC_ABONA"}))
    _signed_in(page, server, process_id)


@state
def process_failed(page: Page, server: Server, lang: str) -> None:
    process_id = _new_port_in(server, confirmed=True)
    server.send(event("port.failed", {"msisdn": server.subject(process_id), "reason": "X"}))
    _signed_in(page, server, process_id)


@state
def process_updated_while_open(page: Page, server: Server, lang: str) -> None:
    process_id = _new_port_in(server)
    page.clock.install()
    _signed_in(page, server, process_id)
    server.send(event("donor.confirmed", {"msisdn": server.subject(process_id)}))
    next_check(page)
    expect(page.locator("#live-note")).to_contain_text(
        server.hub.view(process_id, lang)["headline"]
    )


@state
def process_energy_missed_visit(page: Page, server: Server, lang: str) -> None:
    _signed_in(page, server, server.missed_visit(server.new_customer()))


# Each control's form, its check step and what goes wrong on the way.


@state
def form_postpone(page: Page, server: Server, lang: str) -> None:
    process_id = _new_port_in(server)
    _signed_in(page, server, process_id)
    _open_control(page, server, process_id, "postpone")


@state
def form_postpone_with_errors(page: Page, server: Server, lang: str) -> None:
    form_postpone(page, server, lang)
    _continue(page, lang)
    expect(page.get_by_role("alert")).to_contain_text(texts(lang)["errors_title"])


@state
def check_postpone(page: Page, server: Server, lang: str) -> None:
    form_postpone(page, server, lang)
    field = page.locator("input[name=new_date]")
    field.fill(field.get_attribute("min") or "")
    _continue(page, lang)
    expect(page.get_by_role("heading", level=1)).to_have_text(texts(lang)["check_title"])


@state
def form_upload(page: Page, server: Server, lang: str) -> None:
    process_id = _new_port_in(server)
    server.reject(process_id, "RECH_IDENT")
    _signed_in(page, server, process_id)
    _open_control(page, server, process_id, "send_id_document")


@state
def form_upload_with_errors(page: Page, server: Server, lang: str) -> None:
    form_upload(page, server, lang)
    fake = _scratch(server) / "dni.pdf"
    fake.write_bytes(b"MZ\x90\x00 this is no PDF")
    page.locator("input[type=file]").set_input_files(fake)
    page.get_by_role("button", name=texts(lang)["confirm"]).click()
    expect(page.get_by_role("alert")).to_be_visible()


@state
def form_correct_id(page: Page, server: Server, lang: str) -> None:
    process_id = _new_port_in(server)
    server.reject(process_id, "RECH_IDENT")
    _signed_in(page, server, process_id)
    _open_control(page, server, process_id, "correct_id")


@state
def check_correct_id(page: Page, server: Server, lang: str) -> None:
    form_correct_id(page, server, lang)
    page.get_by_role("textbox").fill("12345678Z")
    _continue(page, lang)
    expect(page.get_by_role("heading", level=1)).to_have_text(texts(lang)["check_title"])


@state
def form_correct_iccid_with_choices(page: Page, server: Server, lang: str) -> None:
    process_id = _new_port_in(server)
    server.reject(process_id, "RECH_ICCID")
    _signed_in(page, server, process_id)
    _open_control(page, server, process_id, "correct_iccid")
    expect(page.get_by_role("radio").first).to_be_visible()


@state
def form_send_sim_photo(page: Page, server: Server, lang: str) -> None:
    process_id = _new_port_in(server)
    server.reject(process_id, "RECH_ICCID")
    _signed_in(page, server, process_id)
    _open_control(page, server, process_id, "send_sim_photo")


@state
def form_retry_without_inputs(page: Page, server: Server, lang: str) -> None:
    process_id = _new_port_in(server)
    server.reject(process_id, "RECH_BNUME")
    _signed_in(page, server, process_id)
    _open_control(page, server, process_id, "retry_port")


@state
def form_visit_date_and_time(page: Page, server: Server, lang: str) -> None:
    process_id = server.missed_visit(server.new_customer())
    _signed_in(page, server, process_id)
    _open_control(page, server, process_id, "book_field_visit")


@state
def check_visit_date_and_time(page: Page, server: Server, lang: str) -> None:
    form_visit_date_and_time(page, server, lang)
    field = page.locator("input[name=slot]")
    field.fill(f"{a_weekday_between((field.get_attribute('min') or '')[:10], '9999')}T09:30")
    _continue(page, lang)
    expect(page.get_by_role("heading", level=1)).to_have_text(texts(lang)["check_title"])


@state
def consequences_cancel(page: Page, server: Server, lang: str) -> None:
    process_id = _new_port_in(server)
    _signed_in(page, server, process_id)
    _open_control(page, server, process_id, "cancel")


@state
def consequences_cancel_code_sent(page: Page, server: Server, lang: str) -> None:
    process_id = _new_port_in(server)
    _signed_in(page, server, process_id)
    _open_control(page, server, process_id, "cancel")
    ask_for_code(page, server, process_id, lang)


@state
def consequences_cancel_wrong_code(page: Page, server: Server, lang: str) -> None:
    consequences_cancel_code_sent(page, server, lang)
    page.get_by_label(texts(lang)["code_label"]).fill("000 00")
    page.get_by_role("button", name=texts(lang)["confirm"]).click()
    expect(page.get_by_role("alert")).to_contain_text(texts(lang)["code_malformed"])
    code = server.inbox.last_code()
    page.get_by_label(texts(lang)["code_label"]).fill(f"{(int(code) + 1) % 1_000_000:06d}")
    page.get_by_role("button", name=texts(lang)["confirm"]).click()
    wrong = re.escape(texts(lang)["code_wrong"]).replace(re.escape("{left}"), "[0-9]+")
    expect(page.get_by_role("alert")).to_contain_text(re.compile(wrong))


@state
def consequences_new_number(page: Page, server: Server, lang: str) -> None:
    process_id = _new_port_in(server)
    server.reject(process_id, "RECH_BNUME")
    _signed_in(page, server, process_id)
    _open_control(page, server, process_id, "take_new_number")


@state
def form_not_possible_now(page: Page, server: Server, lang: str) -> None:
    process_id = _new_port_in(server, confirmed=True)
    with server.later(hours=29):
        _signed_in(page, server, process_id)
        _open_control(page, server, process_id, "postpone")


@state
def form_refused_by_the_hub(page: Page, server: Server, lang: str) -> None:
    process_id = _new_port_in(server)
    _signed_in(page, server, process_id)
    _open_control(page, server, process_id, "postpone")
    field = page.locator("input[name=new_date]")
    field.fill(field.get_attribute("min") or "")
    # Meanwhile the customer cancels by phone.
    server.send(event("nc.cancelled", {"msisdn": server.subject(process_id), "cause": "X"}))
    _continue(page, lang)
    expect(page.get_by_role("alert")).to_contain_text(texts(lang)["refused_title"])


# The pages that say something went wrong.


@state
def error_not_found(page: Page, server: Server, lang: str) -> None:
    _signed_in(page, server, _new_port_in(server))
    page.goto("/my/processes/prc_doesnotexist000000000")


@state
def error_signed_out(page: Page, server: Server, lang: str) -> None:
    page.goto("/my")


@state
def error_link_expired(page: Page, server: Server, lang: str) -> None:
    customer = server.new_customer()
    page.goto(server.link(server.port_in(customer), customer, hours=-1))


@state
def error_link_used(page: Page, server: Server, lang: str) -> None:
    customer = server.new_customer()
    link = server.link(server.port_in(customer), customer)
    for _ in range(LINK_USES):  # on as many devices (a signed-in browser uses nothing up)
        page.goto(link)
        page.context.clear_cookies()
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(texts(lang)["link_used_title"])


@state
def new_link_sent(page: Page, server: Server, lang: str) -> None:
    error_link_used(page, server, lang)
    page.get_by_role("button", name=texts(lang)["new_link_button"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(texts(lang)["new_link_sent_title"])


@state
def new_link_form(page: Page, server: Server, lang: str) -> None:
    page.goto("/p/new")


@state
def new_link_form_with_errors(page: Page, server: Server, lang: str) -> None:
    new_link_form(page, server, lang)
    page.get_by_role("button", name=texts(lang)["new_link_button"]).click()
    expect(page.get_by_role("alert")).to_contain_text(texts(lang)["required"])


@state
def error_too_many_requests(page: Page, server: Server, lang: str) -> None:
    reference = f"prc_asked_too_often_{server.new_customer()}"
    with server.in_an_hour_of_its_own():
        for _ in range(LINK_REQUESTS.limit + 1):
            page.goto("/p/new")
            page.get_by_label(texts(lang)["reference_label"]).fill(reference)
            page.get_by_role("button", name=texts(lang)["new_link_button"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(texts(lang)["too_many_title"])


@state
def error_link_not_valid(page: Page, server: Server, lang: str) -> None:
    page.goto("/p/this-is-not-a-link")


@state
def error_form_expired(page: Page, server: Server, lang: str) -> None:
    form_postpone(page, server, lang)
    page.locator("input[name=csrf]").evaluate("input => { input.value = 'stale'; }")
    _continue(page, lang)
    expect(page.get_by_role("heading", level=1)).to_have_text(texts(lang)["csrf_title"])


def _scratch(server: Server) -> Path:
    folder = server.uploads.parent / "files"
    folder.mkdir(exist_ok=True)
    return folder
