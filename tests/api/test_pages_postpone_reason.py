"""Postponing with a reason: an optional choice and text on the form, read back before
confirming, kept in the history (customer and agent views) and sent to the back-end."""

from __future__ import annotations

import re
from typing import Any

from .pages import Site, csrf_of, input_attr, text_of
from .test_pages_journey import _weekday_between


def _postpone(site: Site, process_id: str, lang: str = "es", **answers: str) -> Any:
    base = f"/my/processes/{process_id}/controls/postpone"
    form = site.client.get(f"{base}?lang={lang}")
    day = _weekday_between(
        input_attr(form.text, "new_date", "min"), input_attr(form.text, "new_date", "max")
    )
    data = {"csrf": csrf_of(form.text), "new_date": day, **answers}
    check = site.client.post(f"{base}/check?lang={lang}", data=data)
    return form, check, data


def test_the_form_offers_reasons_and_the_check_step_reads_them_back(site: Site) -> None:
    process_id = site.scheduled()
    site.sign_in(process_id)
    form, check, data = _postpone(
        site, process_id, reason="travelling", reason_text="Vuelvo el día 20"
    )
    words = text_of(form)
    assert "Motivo (opcional)" in words
    for label in ("Voy a estar de viaje", "Aún no tengo la SIM nueva", "Otro motivo"):
        assert label in words
    assert "Cuéntanos algo más (opcional)" in words
    assert 'type="radio" name="reason"' in form.text
    assert "checked" not in form.text  # no reason is picked for the customer

    assert check.status_code == 200, text_of(check)
    read_back = text_of(check)
    assert "Motivo Voy a estar de viaje" in read_back
    assert "Cuéntanos algo más Vuelvo el día 20" in read_back
    # "Change" keeps every other answer, so changing the day does not lose the reason.
    changes = re.findall(r'href="([^"]*controls/postpone\?lang=es&amp;[^"]*)"', check.text)
    assert len(changes) == 3
    for link in changes:
        assert "reason=travelling" in link and f"new_date={data['new_date']}" in link
    again = site.client.get(changes[0].replace("&amp;", "&"))
    assert input_attr(again.text, "new_date", "value") == data["new_date"]
    assert 'value="travelling" checked' in again.text
    assert input_attr(again.text, "reason_text", "value") == "Vuelvo el día 20"

    done = site.client.post(
        f"/my/processes/{process_id}/controls/postpone",
        data={**data, "csrf": csrf_of(check.text)},
        follow_redirects=True,
    )
    assert "Hecho" in done.text
    line = "Cambiar la fecha — Motivo: Voy a estar de viaje · Cuéntanos algo más: Vuelvo el día 20"
    assert line in text_of(done)

    agent = site.client.get(
        f"/v1/processes/{process_id}",
        params={"lang": "en", "role": "agent"},
        headers=site.api.headers("channel"),
    ).json()
    texts = [row["text"] for row in agent["history"]]
    assert (
        "Change the date — Reason: I am travelling · Anything else to tell us: Vuelvo el día 20"
        in texts
    )
    sent = [m for m in site.api.hub.outbox() if m.topic == "port.reschedule_requested"]
    assert len(sent) == 1
    params = sent[0].payload["params"]
    assert params["reason"] == "travelling"
    assert params["reason_text"] == "Vuelvo el día 20"
    assert params["new_date"].startswith(data["new_date"])


def test_the_reason_is_optional_and_its_absence_changes_nothing(site: Site) -> None:
    process_id = site.scheduled()
    site.sign_in(process_id)
    _, check, data = _postpone(site, process_id, lang="en")
    assert check.status_code == 200
    assert "Reason" not in text_of(check)
    site.client.post(
        f"/my/processes/{process_id}/controls/postpone?lang=en",
        data={**data, "csrf": csrf_of(check.text)},
    )
    history = site.api.view(process_id, "en")["history"]
    assert history[0]["text"] == "Change the date"
    sent = [m for m in site.api.hub.outbox() if m.topic == "port.reschedule_requested"]
    assert set(sent[0].payload["params"]) == {"new_date"}


def test_an_unknown_reason_or_odd_text_is_refused_beside_the_field(site: Site) -> None:
    process_id = site.scheduled()
    site.sign_in(process_id)
    _, unknown, _ = _postpone(site, process_id, reason="bored")
    assert unknown.status_code == 422
    assert 'href="#field-reason"' in unknown.text
    _, long, _ = _postpone(site, process_id, reason="other", reason_text="x" * 201)
    assert long.status_code == 422
    assert "como mucho 200 caracteres" in text_of(long)
    assert site.api.view(process_id)["history"][0]["ref"] != "postpone"


def test_the_api_bounds_the_reason_text_too(site: Site) -> None:
    process_id = site.scheduled()
    response = site.api.act(
        process_id, "postpone", params={"new_date": "2025-03-10", "reason_text": "y" * 201}
    )
    assert response.status_code == 422, response.text
    problems = {p["field"] for p in response.json()["refusal"]["problems"]}
    assert "reason_text" in problems
