"""The one-time code before an irreversible action: sent to the contact on file, typed or
pasted as it comes, refused when wrong, expired, used or tried too often — each with its
own message — and only a right code cancels."""

from __future__ import annotations

import pytest

from .inbox import Inbox
from .pages import Site, csrf_of, text_of


def _cancel(site: Site, contact: dict[str, str] | None = None) -> str:
    process_id = site.scheduled(contact=contact)
    site.sign_in(process_id)
    return f"/my/processes/{process_id}/controls/cancel"


def _ask_code(site: Site, path: str) -> str:
    """Ask for a code on ``path``'s page; the page that then takes it."""
    page = site.client.get(path)
    asked = site.client.post(
        path + "/code", data={"csrf": csrf_of(page.text)}, follow_redirects=False
    )
    assert asked.status_code == 303, text_of(asked)
    return site.client.get(asked.headers["location"]).text


def _type(site: Site, path: str, code: str) -> tuple[int, str]:
    form = site.client.get(path)
    answer = site.client.post(
        path, data={"csrf": csrf_of(form.text), "code": code}, follow_redirects=False
    )
    return answer.status_code, text_of(answer)


def _status(site: Site, path: str) -> str:
    process_id = path.split("/")[3]
    status: str = site.api.view(process_id)["status"]
    return status


def test_the_code_field_is_paste_friendly(site: Site, inbox: Inbox) -> None:
    path = _cancel(site)
    page = _ask_code(site, path)
    assert 'inputmode="numeric"' in page and 'autocomplete="one-time-code"' in page
    assert "Te hemos enviado un código por SMS al +34******678" in text_of(site.client.get(path))
    code = inbox.last_code()
    status, _ = _type(site, path, f" {code[:3]} - {code[3:]} ")
    assert status == 303
    assert _status(site, path) == "cancelled"


def test_a_wrong_code_says_how_many_tries_are_left(site: Site, inbox: Inbox) -> None:
    path = _cancel(site)
    _ask_code(site, path)
    code = inbox.last_code()
    wrong = "000000" if code != "000000" else "111111"
    status, words = _type(site, path, wrong)
    assert status == 422 and "El código no es correcto. Te quedan 4 intentos." in words
    assert _status(site, path) == "active"
    assert _type(site, path, code)[0] == 303


def test_too_many_wrong_codes_lock_the_code(site: Site, inbox: Inbox) -> None:
    path = _cancel(site)
    _ask_code(site, path)
    code = inbox.last_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        assert _type(site, path, wrong)[0] == 422
    status, words = _type(site, path, wrong)
    assert "demasiadas veces" in words and "Enviarme el código" in words
    status, words = _type(site, path, code)
    assert status == 422 and "demasiadas veces" in words
    assert _status(site, path) == "active"


def test_an_expired_code_is_refused(site: Site, inbox: Inbox) -> None:
    path = _cancel(site)
    _ask_code(site, path)
    code = inbox.last_code()
    site.api.clock.advance(minutes=10)
    status, words = _type(site, path, code)
    assert status == 422 and "El código ha caducado. Pide uno nuevo." in words
    assert _status(site, path) == "active"


def test_a_new_code_replaces_the_last_one(site: Site, inbox: Inbox) -> None:
    path = _cancel(site)
    _ask_code(site, path)
    first = inbox.last_code()
    _ask_code(site, path)
    second = inbox.last_code()
    if first != second:
        assert _type(site, path, first)[0] == 422
    assert _type(site, path, second)[0] == 303


def test_a_used_code_cannot_be_replayed(site: Site, inbox: Inbox) -> None:
    path = _cancel(site)
    form = _ask_code(site, path)
    data = {"csrf": csrf_of(form), "code": inbox.last_code()}
    assert site.client.post(path, data=data, follow_redirects=False).status_code == 303
    replay = site.client.post(path, data=data, follow_redirects=False)
    assert replay.status_code == 409
    process_id = path.split("/")[3]
    history = site.api.view(process_id)["history"]
    assert [row["ref"] for row in history if row["kind"] == "control"] == ["cancel"]


def test_without_asking_for_a_code_nothing_happens(site: Site) -> None:
    path = _cancel(site)
    status, words = _type(site, path, "123456")
    assert status == 422 and "Primero pide el código" in words
    assert _status(site, path) == "active"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1" * 5000, "demasiado largo"),
        ("12\x003456", "caracteres no válidos"),
        ("12345", "Escribe las 6 cifras"),
        ("abcdef", "Escribe las 6 cifras"),
        ("", "Rellena este campo"),
    ],
)
def test_odd_codes_get_their_message_and_cost_no_try(
    site: Site, inbox: Inbox, typed: str, message: str
) -> None:
    path = _cancel(site)
    _ask_code(site, path)
    code = inbox.last_code()
    status, words = _type(site, path, typed)
    assert status == 422 and message in words
    for _ in range(4):
        _type(site, path, "abcdef")
    assert _type(site, path, code)[0] == 303


def test_full_width_digits_are_read_as_digits(site: Site, inbox: Inbox) -> None:
    path = _cancel(site)
    _ask_code(site, path)
    code = inbox.last_code()
    wide = "".join(chr(ord("０") + int(d)) for d in code)
    assert _type(site, path, wide)[0] == 303


def test_without_a_mobile_the_code_goes_by_email(site: Site, inbox: Inbox) -> None:
    path = _cancel(site, contact={"contact_email": "ana@example.com"})
    assert "por correo a a***@example.com" in text_of(site.client.get(path))
    _ask_code(site, path)
    code = inbox.last_code()
    [mail] = inbox.access_emails()
    assert mail.to == "ana@example.com" and code in mail.html and code in mail.text
    assert "código" in mail.subject.lower()


def test_without_any_contact_the_page_says_to_call(site: Site, inbox: Inbox) -> None:
    path = _cancel(site, contact={})
    page = site.client.get(path)
    assert "No tenemos un móvil ni un correo" in page.text and "<form" not in page.text
    token = csrf_of(site.client.get(path.replace("cancel", "postpone")).text)
    asked = site.client.post(path + "/code", data={"csrf": token})
    assert asked.status_code == 409
    inbox.deliver()
    assert inbox.access_sms() == [] and inbox.access_emails() == []


def test_codes_are_rate_limited(site: Site) -> None:
    path = _cancel(site)
    for _ in range(5):
        _ask_code(site, path)
    page = site.client.get(path)
    limited = site.client.post(path + "/code", data={"csrf": csrf_of(page.text)})
    assert limited.status_code == 429 and "retry-after" in limited.headers
    assert "podrás pedir otro código" in text_of(limited)


def test_a_code_request_needs_the_csrf_token_and_the_own_process(site: Site) -> None:
    path = _cancel(site)
    assert site.client.post(path + "/code", data={"csrf": "0" * 64}).status_code == 403
    theirs = site.scheduled("cust-2", "622222222")
    token = csrf_of(site.client.get(path).text)
    other = site.client.post(f"/my/processes/{theirs}/controls/cancel/code", data={"csrf": token})
    assert other.status_code == 404
    postpone = f"/my/processes/{path.split('/')[3]}/controls/postpone/code"
    assert site.client.post(postpone, data={"csrf": token}).status_code == 409


def test_one_customers_code_does_not_work_for_another(site: Site, inbox: Inbox) -> None:
    mine = _cancel(site)
    _ask_code(site, mine)
    code = inbox.last_code()
    theirs = site.scheduled("cust-2", "622222222")
    site.client.cookies.clear()
    site.sign_in(theirs, "cust-2")
    status, words = _type(site, f"/my/processes/{theirs}/controls/cancel", code)
    assert status == 422 and "Primero pide el código" in words
    assert site.api.view(theirs)["status"] == "active"
