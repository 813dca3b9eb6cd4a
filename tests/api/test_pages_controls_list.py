"""The page's list of controls: what the customer can do first, a control closed by its
cut-off in view with what to do instead, and the ones that do not fit this step behind one
summary line (still there, with why)."""

from __future__ import annotations

import dataclasses
import re

from relevo.domain.controls import is_guidance

from .builders import event
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
    assert "This request has finished: it can no longer be changed." in text_of(page)
    assert text_of(page).count("it can no longer be changed") == 1
    # Nothing can be used on it ever again, so nothing is listed, not even folded.
    assert 'class="button' not in part and "<details" not in part


def _port_out(site: Site) -> str:
    """A number leaving us: its cancel is the receiving operator's, never the customer's."""
    view = site.api.start(
        kind="mobile_port_out",
        subject="612345678",
        keys={"msisdn": "612345678"},
        attributes={
            "modality": "postpaid",
            "nc_reference": "NC-OUT-1",
            "window": "2025-03-06",
            "recipient_operator": "Vodafone",
        },
    )
    process_id: str = view["id"]
    return process_id


def test_a_control_never_allowed_is_listed_only_as_guidance(site: Site) -> None:
    process_id = _port_out(site)
    view = site.api.view(process_id)
    never = {row["id"]: row for row in view["controls"]}["cancel"]
    assert never["allowed"] is False and never["possible"] is False
    assert never["guidance"] is True  # never allowed, with where to go instead
    site.sign_in(process_id)
    for lang, title, advice in (
        ("es", "Cancelar el cambio", "pídeselo a tu nueva compañía"),
        ("en", "Cancel the switch", "ask your new provider"),
    ):
        part = _controls_part(site.client.get(f"/my/processes/{process_id}?lang={lang}").text)
        assert title in part and advice in part, part
        assert f'href="/my/processes/{process_id}/controls/cancel' not in part


def test_guidance_is_not_given_once_the_process_has_ended(site: Site) -> None:
    process_id = _port_out(site)
    hub = site.api.hub
    state = hub.processes.get(process_id)
    c = hub.processes.compiled(state)
    assert is_guidance(c, state, "cancel")
    assert not is_guidance(c, dataclasses.replace(state, status="completed"), "cancel")


def test_a_control_of_no_stage_still_ahead_is_not_listed(site: Site) -> None:
    process_id = site.scheduled()
    confirmed = site.api.send(event("donor.confirmed", {"msisdn": "612345678"}))
    assert confirmed.status_code in (200, 202), confirmed.text
    view = site.api.view(process_id)
    hub = site.api.hub
    state = hub.processes.get(process_id)
    ahead = hub.processes.compiled(state).reachable_from(state.stage)
    definition = hub.processes.compiled(state).definition
    behind = [
        row
        for row in view["controls"]
        if "*" not in definition.controls[row["id"]].allowed_in
        and ahead.isdisjoint(definition.controls[row["id"]].allowed_in)
    ]
    assert behind, "the scheduled port-in has a control of a stage it has left behind"
    part = _controls_part(site.sign_in(process_id).text)
    for row in behind:
        assert row["possible"] is False
        assert f">{row['title']}<" not in part


def test_an_ended_process_lists_no_control_and_no_instead(site: Site) -> None:
    process_id = site.scheduled()
    assert site.api.act(process_id, "cancel", actor="cust-1", channel="app").status_code == 200
    view = site.api.view(process_id, "en")
    assert all(row["instead"] is None and not row["possible"] for row in view["controls"])
    site.sign_in(process_id)
    for lang, instead in (("es", "en su lugar"), ("en", "instead")):
        page = site.client.get(f"/my/processes/{process_id}?lang={lang}")
        assert instead not in text_of(page)
        assert "<details" not in _controls_part(page.text)
