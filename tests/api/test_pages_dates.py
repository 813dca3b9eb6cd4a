"""Dates given as days read as days on every channel: the page, the status view's texts and
the notifications never say "a las 00:00" / "at 00:00", in Spanish and English; a moment
keeps its time of day (and so does a day the definition puts at 23:59 on purpose: the
move-out day, "until the end of it")."""

from __future__ import annotations

import re

import pytest

from relevo.domain.definitions import Localized
from relevo.domain.rendering import render
from relevo.services.notifications.render import body_text, render_email, render_sms

from .pages import Site, text_of

#: Monday 3 March 2025 is START: the move-out on Friday 14, the move-in on Wednesday 12.
MOVE_OUT = "2025-03-14"
MOVE_IN = "2025-03-12"
CUPS = "ES0021000000000001AB"


def _move(site: Site, timezone: str | None = None) -> str:
    """A home move whose customer chose the move-out and move-in days on the API."""
    extra = {"timezone": timezone} if timezone else {}
    view = site.api.start(
        kind="move_home",
        subject=CUPS,
        keys={"crm_order_id": "ORD-MOVE"},
        attributes={"supply_type": "electricity"},
        **extra,
    )
    process_id: str = view["id"]
    said = {"actor": "cust-1", "channel": "app"}
    out = site.api.act(
        process_id,
        "set_move_out_date",
        params={"date": MOVE_OUT, "old_supply": "deactivate"},
        **said,
    )
    assert out.status_code == 200, out.text
    moved_in = site.api.act(process_id, "set_move_in_date", params={"date": MOVE_IN}, **said)
    assert moved_in.status_code == 200, moved_in.text
    return process_id


def _clock_times(text: str) -> list[str]:
    return re.findall(r"(?:a las|at) \d\d:\d\d", text)


@pytest.mark.parametrize(
    ("lang", "out_day", "in_day"),
    [
        ("es", "viernes 14 de marzo", "miércoles 12 de marzo"),
        ("en", "Friday 14 March", "Wednesday 12 March"),
    ],
)
def test_a_day_reads_as_a_day_on_the_page(site: Site, lang: str, out_day: str, in_day: str) -> None:
    process_id = _move(site)
    site.sign_in(process_id)
    page = text_of(site.client.get(f"/my/processes/{process_id}?lang={lang}"))
    dates = page.partition(" Fechas importantes " if lang == "es" else " Important dates ")[2]
    assert out_day in dates and in_day in dates, dates
    assert "00:00" not in page, _clock_times(page)


def test_a_day_is_the_same_day_for_a_customer_in_the_canaries(site: Site) -> None:
    process_id = _move(site, timezone="Atlantic/Canary")
    site.sign_in(process_id)
    page = text_of(site.client.get(f"/my/processes/{process_id}?lang=es"))
    assert "miércoles 12 de marzo" in page and "martes 11 de marzo" not in page
    assert "23:00" not in page and "00:00" not in page


def test_the_status_view_writes_a_day_as_a_day(site: Site) -> None:
    process_id = _move(site)
    for lang in ("es", "en"):
        view = site.api.view(process_id, lang)
        texts = {row["id"]: row["text"] for row in view["dates"]}
        assert not _clock_times(texts["move_in_date"]), texts
        assert "23:59" in texts["move_out_date"], texts  # the definition's own time
        # The cut-off of a control is a moment: it keeps its time.
        assert "14:00" in texts["move_in_cutoff"], texts


def test_a_notification_writes_a_day_as_a_day(site: Site) -> None:
    process_id = _move(site)
    hub = site.api.hub
    state = hub.processes.get(process_id)
    compiled = hub.processes.compiled(state)
    # A definition's text asking for the time of a date that is a day gets the day alone.
    asked = Localized(es="Entras el {move_in_date.datetime}.", en="In on {move_in_date.datetime}.")
    assert render(asked, compiled, state, "es") == "Entras el miércoles 12 de marzo."
    assert render(asked, compiled, state, "en") == "In on Wednesday 12 March."
    for lang, day in (("es", "miércoles 12 de marzo"), ("en", "Wednesday 12 March")):
        body = body_text(compiled, state, "move_requested", lang)
        assert day in body and not _clock_times(body), body
        sms = render_sms(compiled, state, "move_requested", lang, "https://x.test/p/t").text
        mail = render_email(compiled, state, "move_requested", lang, "https://x.test/p/t")
        assert not _clock_times(sms) and not _clock_times(mail.text), (sms, mail.text)


def test_a_moment_keeps_its_time(site: Site) -> None:
    process_id = site.scheduled()  # the porting window opens on Wednesday 5 at 02:00
    site.sign_in(process_id)
    page = text_of(site.client.get(f"/my/processes/{process_id}?lang=es"))
    assert "miércoles 5 de marzo a las 02:00" in page
    english = text_of(site.client.get(f"/my/processes/{process_id}?lang=en"))
    assert "Wednesday 5 March at 02:00" in english
