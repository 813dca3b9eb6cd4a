"""Links used up, links asked for again: a link opens a few times within a short grace and
then says it was used; a new one goes only to the contact on file, with the same answer
whether or not the reference exists, and requests are rate limited per address and per
reference (the limits live in the database)."""

from __future__ import annotations

import re

import pytest

from .inbox import Inbox
from .pages import Site, text_of


def _fresh_browser(site: Site) -> None:
    site.client.cookies.clear()


def _new_link_form(site: Site, lang: str = "es") -> str:
    form = site.client.get(f"/p/new?lang={lang}")
    assert form.status_code == 200
    return form.text


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, html
    return found.group(1)


def _ask(site: Site, **data: str) -> tuple[int, str]:
    form = _new_link_form(site)
    answer = site.client.post("/p/new", data={"csrf": _csrf(form), **data})
    return answer.status_code, text_of(answer)


def test_a_link_opens_a_few_times_then_says_it_was_used(site: Site) -> None:
    process_id = site.scheduled()
    link = site.link(process_id)
    for _ in range(3):  # a double click, a scanner, the phone then the laptop
        _fresh_browser(site)
        assert site.client.get(link, follow_redirects=False).status_code == 303
    _fresh_browser(site)
    used = site.client.get(link, follow_redirects=False)
    assert used.status_code == 410
    assert "Este enlace ya se ha usado" in used.text
    assert "relevo_session" not in used.headers.get("set-cookie", "")
    assert "Enviarme un enlace nuevo" in used.text and 'name="token"' in used.text
    assert "This link has already been used" in site.client.get(link + "?lang=en").text


def test_after_the_grace_a_used_link_no_longer_opens(site: Site) -> None:
    process_id = site.scheduled()
    link = site.link(process_id)
    assert site.client.get(link, follow_redirects=False).status_code == 303
    site.api.clock.advance(minutes=11)
    _fresh_browser(site)
    assert site.client.get(link, follow_redirects=False).status_code == 410


def test_a_signed_in_browser_reopens_its_link_without_using_it_up(site: Site) -> None:
    process_id = site.scheduled()
    link = site.link(process_id)
    for _ in range(6):
        again = site.client.get(link, follow_redirects=False)
        assert again.status_code == 303
        assert again.headers["location"] == f"/my/processes/{process_id}"


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_link_with_a_language_opens_the_page_in_that_language(site: Site, lang: str) -> None:
    process_id = site.scheduled()
    link = site.link(process_id) + f"?lang={lang}"
    opened = site.client.get(link, follow_redirects=False, headers={"Accept-Language": "de"})
    assert opened.headers["location"] == f"/my/processes/{process_id}?lang={lang}"
    again = site.client.get(link, follow_redirects=False)  # signed in already
    assert again.headers["location"] == f"/my/processes/{process_id}?lang={lang}"
    page = site.client.get(opened.headers["location"], headers={"Accept-Language": "de"})
    assert f'<html lang="{lang}"' in page.text
    later = site.client.get(f"/my/processes/{process_id}", headers={"Accept-Language": "de"})
    assert f'<html lang="{lang}"' in later.text, "the language chosen is remembered"


def test_a_link_with_an_odd_language_drops_it(site: Site) -> None:
    process_id = site.scheduled()
    opened = site.client.get(site.link(process_id) + "?lang=xx%22", follow_redirects=False)
    assert opened.headers["location"] == f"/my/processes/{process_id}"


def test_a_used_up_link_sends_a_new_one_to_the_contact_on_file(site: Site, inbox: Inbox) -> None:
    process_id = site.scheduled()
    link = site.link(process_id, hours=1)
    site.api.clock.advance(hours=2)
    expired = site.client.get(link)
    assert expired.status_code == 410 and "Este enlace ha caducado" in expired.text
    token = re.search(r'name="token" value="([^"]+)"', expired.text)
    assert token is not None
    sent = site.client.post(
        "/p/new",
        data={"csrf": _csrf(expired.text), "token": token.group(1), "email": "x@evil.test"},
    )
    assert sent.status_code == 200
    assert "Si te conocemos, tu enlace va de camino" in sent.text
    fresh = inbox.last_link()
    assert [sms.to for sms in inbox.access_sms()] == ["+34612345678"]
    assert not inbox.access_emails()
    assert "nuevo enlace" in inbox.access_sms()[0].text
    _fresh_browser(site)
    opened = site.client.get(fresh, follow_redirects=False)
    assert opened.headers["location"] == f"/my/processes/{process_id}"


def test_the_answer_never_says_whether_a_reference_exists(site: Site, inbox: Inbox) -> None:
    process_id = site.scheduled()
    known = _ask(site, reference=process_id)
    unknown = _ask(site, reference="prc_doesnotexist")
    typo = _ask(site, reference=process_id + "x")
    assert known == unknown == typo
    assert known[0] == 200 and "If we know you" not in known[1]
    inbox.deliver()
    assert [sms.to for sms in inbox.access_sms()] == ["+34612345678"]


def test_an_altered_link_offers_a_new_one_by_the_reference(site: Site) -> None:
    process_id = site.scheduled()
    link = site.link(process_id)
    altered = site.client.get(link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB"))
    assert altered.status_code == 400
    assert 'name="token"' not in altered.text and 'name="reference"' in altered.text
    english = site.client.get("/p/new?lang=en")
    assert "Ask for a new link" in english.text and "Request reference" in english.text


def test_new_links_are_rate_limited_per_reference_whether_or_not_it_exists(site: Site) -> None:
    process_id = site.scheduled()
    for reference in (process_id, "prc_doesnotexist"):
        for _ in range(3):
            assert _ask(site, reference=reference)[0] == 200
        form = _new_link_form(site)
        limited = site.client.post("/p/new", data={"csrf": _csrf(form), "reference": reference})
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0
        assert "podrás pedir otro enlace a partir del" in text_of(limited)
    site.api.clock.advance(hours=1)
    assert _ask(site, reference=process_id)[0] == 200


def test_new_links_are_rate_limited_per_client_address(site: Site) -> None:
    for n in range(10):
        assert _ask(site, reference=f"prc_unknown{n}")[0] == 200
    status, words = _ask(site, reference="prc_unknown-last")
    assert status == 429 and "Demasiadas peticiones seguidas" in words


def test_a_customer_gets_at_most_five_new_links_an_hour_without_it_showing(
    site: Site, inbox: Inbox
) -> None:
    first = site.scheduled("cust-1", "612345678")
    second = site.scheduled("cust-1", "612345679")
    answers = {_ask(site, reference=ref) for ref in (first, second) for _ in range(3)}
    assert len(answers) == 1 and next(iter(answers))[0] == 200
    inbox.deliver()
    assert len(inbox.access_sms()) == 5


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"reference": ""}, 422, "Rellena este campo"),
        ({"reference": "prc_\x00x"}, 422, "caracteres no válidos"),
        ({"reference": "a" * 5000}, 422, "demasiado largo"),
        ({"reference": "prc_x", "csrf": ""}, 403, "No hemos podido enviar el formulario"),
        ({"reference": "prc_x", "csrf": "0" * 64}, 403, "No hemos podido enviar el formulario"),
        ({"reference": "prc_x", "token": "not.a-token"}, 200, "Si te conocemos"),
    ],
)
def test_odd_new_link_requests_get_a_plain_page(
    site: Site, data: dict[str, str], status: int, message: str
) -> None:
    form = _new_link_form(site)
    answer = site.client.post("/p/new", data={"csrf": _csrf(form), **data})
    assert answer.status_code == status, text_of(answer)
    assert message in text_of(answer)
    assert answer.headers["content-type"].startswith("text/html")


def test_a_new_link_form_without_its_cookie_is_refused(site: Site) -> None:
    form = _new_link_form(site)
    site.client.cookies.clear()
    answer = site.client.post("/p/new", data={"csrf": _csrf(form), "reference": "prc_x"})
    assert answer.status_code == 403


def _raw_answer(site: Site, reference: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """The answer to asking for a link to ``reference`` as it goes out: status, headers
    (in order) and body, from a fresh browser."""
    _fresh_browser(site)
    form = _new_link_form(site)
    answer = site.client.post("/p/new", data={"csrf": _csrf(form), "reference": reference})
    return answer.status_code, list(answer.headers.multi_items()), answer.content


def test_the_answer_is_the_same_byte_for_byte_whether_or_not_the_reference_exists(
    site: Site, inbox: Inbox
) -> None:
    process_id = site.scheduled()
    known = _raw_answer(site, process_id)
    unknown = _raw_answer(site, "prc_doesnotexist")
    assert known[0] == unknown[0] == 200
    assert known[1] == unknown[1]
    assert known[2] == unknown[2]
    inbox.deliver()
    assert [sms.to for sms in inbox.access_sms()] == ["+34612345678"]


def test_a_known_and_an_unknown_reference_do_the_same_store_work(site: Site) -> None:
    """Both paths count the same requests and write in the same number of transactions:
    only what is written differs (the time they take must not tell one from the other)."""
    process_id = site.scheduled()
    access = site.client.app.state.access_store  # type: ignore[attr-defined]
    calls: list[str] = []
    real = {
        name: getattr(access, name)
        for name in ("hit", "enqueue", "hit_and_enqueue")
        if hasattr(access, name)
    }

    def spy(name: str) -> object:
        def call(*args: object, **kwargs: object) -> object:
            calls.append(name)
            return real[name](*args, **kwargs)

        return call

    for name in real:
        setattr(access, name, spy(name))
    try:
        seen = []
        for reference in (process_id, "prc_doesnotexist"):
            calls.clear()
            _raw_answer(site, reference)
            seen.append(list(calls))
    finally:
        for name, method in real.items():
            setattr(access, name, method)
    assert seen[0] == seen[1], seen
