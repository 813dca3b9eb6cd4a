"""The process page updates itself: the live route answers 304 while nothing the customer
sees has changed and the page's changing parts once it has, only to the process's owner."""

from __future__ import annotations

import re

import httpx

from .builders import event
from .pages import Site, text_of


def _live(site: Site, process_id: str, etag: str | None = None, lang: str = "es") -> httpx.Response:
    headers = {"If-None-Match": etag} if etag else {}
    return site.client.get(f"/my/processes/{process_id}/live?lang={lang}", headers=headers)


def _parts(html: str) -> list[str]:
    return re.findall(r'data-part="([a-z]+)"', html)


def test_the_page_loads_the_script_and_marks_the_parts_that_change(site: Site) -> None:
    process_id = site.scheduled()
    page = site.sign_in(process_id)
    assert f'data-live="/my/processes/{process_id}/live?lang=es"' in page.text
    assert '<script src="/static/page/live.js" defer></script>' in page.text
    # Only scripts from this site, none inline.
    assert re.findall(r"<script(?![^>]*\bsrc=)", page.text) == []
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe" not in policy
    assert "connect-src 'self'" in policy
    assert 'id="live-note" class="live-note" role="status" aria-live="polite"' in page.text
    fragment = _live(site, process_id)
    assert _parts(fragment.text) == _parts(page.text)
    assert _parts(page.text) == [
        "head", "next", "needed", "incidents", "stages", "dates", "controls", "history"
    ]  # fmt: skip
    script = site.client.get("/static/page/live.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "If-None-Match" in script.text and "aria-live" not in script.text


def test_nothing_new_is_a_304_and_a_back_end_event_changes_the_parts(site: Site) -> None:
    process_id = site.scheduled()
    site.sign_in(process_id)
    first = _live(site, process_id)
    assert first.status_code == 200
    assert first.headers["cache-control"] == "private, no-cache"
    assert "Cookie" in first.headers["vary"]
    etag = first.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert 'id="live-parts" data-announce="Actualizado a las ' in first.text
    assert "<html" not in first.text  # a fragment, not a page

    unchanged = _live(site, process_id, etag)
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    assert _live(site, process_id, f'W/{etag}, "other"').status_code == 304

    confirmed = event("donor.confirmed", {"nc_reference": "NC-612345678"})
    assert site.api.send(confirmed).status_code in (200, 202)
    changed = _live(site, process_id, etag)
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    headline = site.api.view(process_id)["headline"]
    assert headline in text_of(changed)
    assert f": {headline}" in changed.text.split("data-announce=")[1].split(">")[0]


def test_the_clock_alone_can_change_what_the_customer_sees(site: Site) -> None:
    """A cut-off passing changes the controls without any new event, so the ETag is the
    view's, not only the process version."""
    process_id = site.scheduled()
    site.sign_in(process_id)
    etag = _live(site, process_id).headers["etag"]
    site.api.clock.advance(hours=30)  # past 14:00 of the day before the switch
    site.sign_in(process_id)
    assert _live(site, process_id, etag).status_code == 200


def test_the_announcement_and_parts_follow_the_language(site: Site) -> None:
    process_id = site.scheduled()
    site.sign_in(process_id)
    spanish = _live(site, process_id)
    english = _live(site, process_id, spanish.headers["etag"], lang="en")
    assert english.status_code == 200
    assert english.headers["etag"] != spanish.headers["etag"]
    assert 'data-announce="Updated at ' in english.text
    assert "The stages" in english.text


def test_only_the_owner_polls_and_others_read_not_found(site: Site) -> None:
    mine = site.scheduled()
    theirs = site.scheduled(customer_id="cust-2", subject="698765432")
    signed_out = _live(site, mine)
    assert signed_out.status_code == 401
    assert "no-store" in signed_out.headers["cache-control"]
    site.sign_in(mine)
    etag = _live(site, mine).headers["etag"]
    other = _live(site, theirs, etag)
    missing = _live(site, "prc_does_not_exist", etag)
    assert other.status_code == missing.status_code == 404
    assert text_of(other) == text_of(missing)
    assert "etag" not in other.headers
    assert _live(site, "x" * 500).status_code == 404
