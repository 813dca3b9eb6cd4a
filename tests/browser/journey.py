"""The steps of a customer's journey through their page, as a person does them in the
browser: follow the link, open a control from the page, fill the form, check the answers,
confirm, and read the banner. Each step finds things by their role and visible name in the
page's language, the way a screen-reader user would."""

from __future__ import annotations

import re
import struct
import time
import zlib
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import Locator, Page, Request, Response, expect

from relevo.web.pages.texts import texts

from .server import Server


def sign_in(page: Page, server: Server, process_id: str, customer_id: str) -> Response:
    """Open the customer's link to ``process_id``; the answer of the page it lands on."""
    response = page.goto(server.link(process_id, customer_id))
    assert response is not None
    return response


def control_title(server: Server, process_id: str, control_id: str, lang: str) -> str:
    """What the page calls control ``control_id`` in ``lang``."""
    rows = server.hub.view(process_id, lang)["controls"]
    return str(next(row["title"] for row in rows if row["id"] == control_id))


def expect_banner(page: Page, server: Server, process_id: str, control_id: str, lang: str) -> None:
    """The process page again, with the banner saying the control was done."""
    words = texts(lang)
    expect(page).to_have_url(re.compile(f"/my/processes/{process_id}"))
    banner = page.get_by_role("status").filter(has_text=words["done_title"])
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(control_title(server, process_id, control_id, lang))


def a_weekday_between(earliest: str, latest: str) -> str:
    """The first weekday after ``earliest`` (ISO dates; the earliest day may well be the
    current one), which must not pass ``latest``."""
    day = date.fromisoformat(earliest) + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    assert day.isoformat() <= latest, (earliest, latest)
    return day.isoformat()


def postpone(page: Page, server: Server, process_id: str, lang: str) -> str:
    """Change the switch date to the first weekday the form allows; that day (ISO)."""
    words = texts(lang)
    page.get_by_role("link", name=control_title(server, process_id, "postpone", lang)).click()
    field = page.locator("input[name=new_date]")
    earliest, latest = field.get_attribute("min"), field.get_attribute("max")
    assert earliest and latest
    day = a_weekday_between(earliest, latest)
    field.fill(day)
    page.get_by_role("button", name=words["continue"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["check_title"])
    page.get_by_role("button", name=words["confirm"]).click()
    expect_banner(page, server, process_id, "postpone", lang)
    return day


def upload(page: Page, server: Server, process_id: str, lang: str, document: Path) -> None:
    """Send ``document`` for the missing ID, from the list of what we need."""
    needed = page.get_by_role("region", name=texts(lang)["needed_title"])
    needed.get_by_role("link").first.click()
    page.locator("input[type=file]").set_input_files(document)
    page.get_by_role("button", name=texts(lang)["confirm"]).click()
    expect_banner(page, server, process_id, "send_id_document", lang)


def correct_id(page: Page, server: Server, process_id: str, lang: str, number: str) -> None:
    """Choose the incident's option "correct your ID" and send ``number``."""
    words = texts(lang)
    incident = page.get_by_role("region", name=words["incidents_title"])
    title = control_title(server, process_id, "correct_id", lang)
    incident.get_by_role("link", name=title).click()
    page.get_by_role("textbox").fill(number)
    page.get_by_role("button", name=words["continue"]).click()
    expect(page.get_by_role("main")).to_contain_text(number)
    page.get_by_role("button", name=words["confirm"]).click()
    expect_banner(page, server, process_id, "correct_id", lang)


def cancel(page: Page, server: Server, process_id: str, lang: str, *, pasted: bool = False) -> None:
    """Cancel from the page: the consequences first, then the one-time code that proves it
    is the customer (``pasted`` with a space in the middle, as an SMS app copies it), then
    the confirmation."""
    words = texts(lang)
    open_cancel(page, server, process_id, lang)
    code = ask_for_code(page, server, process_id, lang)
    field = page.get_by_label(words["code_label"])
    if pasted:
        paste(page, field, f"{code[:3]} {code[3:]}")
    else:
        field.fill(code)
    page.get_by_role("button", name=words["confirm"]).click()
    expect_banner(page, server, process_id, "cancel", lang)


def open_cancel(page: Page, server: Server, process_id: str, lang: str) -> None:
    """Open the cancel control from the page: its consequences, said before anything."""
    words = texts(lang)
    title = control_title(server, process_id, "cancel", lang)
    page.get_by_role("region", name=words["controls_title"]).get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=words["consequences"])).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(words["irreversible"])


def ask_for_code(page: Page, server: Server, process_id: str, lang: str) -> str:
    """Press the button that sends the one-time code (on the page of an irreversible
    control), let one worker pass deliver it, and read it from the SMS the customer's
    mobile received; the code."""
    words = texts(lang)
    expect(page.get_by_label(words["code_label"])).to_have_count(0)
    page.get_by_role("button", name=words["code_send"]).click()
    expect(page.get_by_label(words["code_label"])).to_be_visible()
    expect(page.get_by_role("button", name=words["code_again"])).to_be_visible()
    code = server.inbox.last_code()
    newest = server.inbox.access_sms()[-1]
    assert newest.to == "+34" + server.subject(process_id), newest
    return code


def paste(page: Page, field: Locator, text: str) -> None:
    """Paste ``text`` into ``field`` from the clipboard, with the keyboard."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.evaluate("text => navigator.clipboard.writeText(text)", text)
    field.focus()
    page.keyboard.press("ControlOrMeta+V")
    expect(field).to_have_value(text)


#: Longer than a process page ever waits between two checks for news (about 20 s, up to
#: 10 % jitter; ``static/page/live.js``).
LONGEST_WAIT_S = 30


def next_check(page: Page) -> int:
    """Move the page's clock (``page.clock.install()`` before the process page was opened)
    a second at a time until the page sends its next check for news, then wait (real
    time: the server may be busy) for the answer; that answer's status."""
    sent: list[Request] = []

    def seen(request: Request) -> None:
        if "/live" in request.url:
            sent.append(request)

    page.on("request", seen)
    try:
        for _ in range(LONGEST_WAIT_S):
            page.clock.run_for(1000)
            time.sleep(0.02)  # lets a request the step started reach the listener
            page.evaluate("() => 0")  # and hands Playwright's pending events to it
            if sent:
                response = sent[0].response()
                assert response is not None, "the check for news got no answer"
                page.evaluate("() => 0")
                return response.status
        raise AssertionError(f"the page did not check within {LONGEST_WAIT_S} s")
    finally:
        page.remove_listener("request", seen)


def png_file(folder: Path) -> Path:
    """A real (tiny, grey) PNG image: the photo a customer would upload."""
    width = height = 8
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        checksum = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", checksum)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    image = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    path = folder / "dni.png"
    path.write_bytes(image)
    return path
