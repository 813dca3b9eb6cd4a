"""The page's list of controls: what the customer can do first, a control closed by its
cut-off in view with what to do instead, and the ones that do not fit this step behind one
summary line (still there, with why)."""

from __future__ import annotations

import re

from .pages import Site, text_of


def _controls_part(html: str) -> str:
    found = re.search(r'<div data-part="controls">(.*?)</section>', html, re.S)
    assert found, html
    return found.group(1)


def test_usable_controls_come_first_and_the_others_wait_behind_a_summary(site: Site) -> None:
    process_id = site.scheduled()
    part = _controls_part(site.sign_in(process_id).text)
    visible, _, folded = part.partition("<details")
    assert "Cancelar el cambio" in visible and "Cambiar la fecha" in visible
    assert "Enviar tu documento" not in visible
    summary = re.search(r"<summary>(.*?)</summary>", folded)
    assert summary is not None
    # The summary counts exactly the controls folded behind it.
    folded_count = folded.count("<li")
    assert folded_count > 0
    assert summary.group(1) == f"Otras acciones, que ahora no puedes usar ({folded_count})"
    assert "Enviar tu documento" in folded and "no está disponible en este paso" in folded


def test_a_control_past_its_cut_off_stays_in_view(site: Site) -> None:
    process_id = site.scheduled()
    site.api.clock.advance(hours=29)  # past 14:00 of the day before the switch
    visible = _controls_part(site.sign_in(process_id).text).partition("<details")[0]
    assert "Cambiar la fecha" in visible and "Ahora no es posible" in visible
    assert "Qué puedes hacer en su lugar" in visible


def test_a_finished_process_says_so_once(site: Site) -> None:
    process_id = site.scheduled()
    assert site.api.act(process_id, "cancel", actor="cust-1", channel="app").status_code == 200
    site.sign_in(process_id)
    page = site.client.get(f"/my/processes/{process_id}?lang=en")
    part = _controls_part(page.text)
    visible = part.partition("<details")[0]
    assert "This request has finished: it can no longer be changed." in text_of(page)
    assert 'class="button' not in visible
    folded = part.partition("<details")[2]
    assert f"Other actions, which you cannot use now ({folded.count('<li')})" in part
