"""The controls on the customer's page, end to end without JavaScript: an incident's
options, uploading a document, cancelling, a refusal in plain words, and English."""

from __future__ import annotations

from .inbox import Inbox, confirm_with_code
from .pages import Site, csrf_of, input_attr, rejected_id, text_of

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _post(site: Site, path: str, **data: str) -> tuple[int, str, str | None]:
    form = site.client.get(path)
    assert form.status_code == 200, text_of(form)
    answer = site.client.post(
        path, data={"csrf": csrf_of(form.text), **data}, follow_redirects=False
    )
    return answer.status_code, answer.text, answer.headers.get("location")


def test_an_incident_shows_what_happened_and_its_options_lead_to_their_forms(site: Site) -> None:
    process_id = site.scheduled()
    rejected_id(site)
    page = text_of(site.sign_in(process_id))
    assert "Qué ha pasado" in page and "Qué estamos haciendo" in page
    assert "Corregir tu documento" in page
    path = f"/my/processes/{process_id}/controls/correct_id"
    form = site.client.get(path)
    bad = site.client.post(
        path + "/check", data={"csrf": csrf_of(form.text), "id_number": "no vale!"}
    )
    assert bad.status_code == 422
    assert 'class="error"' in bad.text
    check = site.client.post(
        path + "/check", data={"csrf": csrf_of(form.text), "id_number": "12345678Z"}
    )
    assert check.status_code == 200 and "12345678Z" in check.text
    done = site.client.post(
        path, data={"csrf": csrf_of(check.text), "id_number": "12345678Z"}, follow_redirects=False
    )
    assert done.status_code == 303, text_of(done)
    assert "Hecho" in site.client.get(done.headers["location"]).text
    history = site.api.view(process_id)["history"]
    assert any(row["kind"] == "control" and row["ref"] == "correct_id" for row in history)


def test_uploading_a_document_checks_its_content_and_shows_it_received(site: Site) -> None:
    process_id = site.scheduled()
    rejected_id(site)
    site.sign_in(process_id)
    path = f"/my/processes/{process_id}/controls/send_id_document"
    form = site.client.get(path)
    assert 'enctype="multipart/form-data"' in form.text
    token = csrf_of(form.text)
    fake = site.client.post(
        path,
        data={"csrf": token},
        files={"document": ("dni.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")},
    )
    assert fake.status_code == 422
    assert "PDF, JPG o PNG" in text_of(fake)
    assert not site.uploads.exists() or not any(site.uploads.rglob("*.pdf"))
    done = site.client.post(
        path,
        data={"csrf": token},
        files={"document": ("dni.pdf", PDF, "application/octet-stream")},
        follow_redirects=False,
    )
    assert done.status_code == 303, text_of(done)
    assert len(list(site.uploads.rglob("*.pdf"))) == 1
    needed = {row["id"]: row for row in site.api.view(process_id)["needed"]}
    assert needed["id_document"]["state"] == "submitted"
    page = text_of(site.client.get(done.headers["location"]))
    assert needed["id_document"]["state_label"] in page


def test_a_scan_of_a_few_megabytes_uploads_though_api_bodies_stop_at_one(site: Site) -> None:
    process_id = site.scheduled()
    rejected_id(site)
    site.sign_in(process_id)
    path = f"/my/processes/{process_id}/controls/send_id_document"
    token = csrf_of(site.client.get(path).text)
    scan = PDF + b"%" + b"0" * (3 * 1024 * 1024)  # a phone's scan of an ID card

    done = site.client.post(
        path,
        data={"csrf": token},
        files={"document": ("dni.pdf", scan, "application/pdf")},
        follow_redirects=False,
    )

    assert done.status_code == 303, text_of(done)
    assert len(list(site.uploads.rglob("*.pdf"))) == 1


def test_cancel_states_the_consequences_then_cancels(site: Site, inbox: Inbox) -> None:
    process_id = site.scheduled()
    site.sign_in(process_id)
    path = f"/my/processes/{process_id}/controls/cancel"
    form = site.client.get(path)
    assert "Qué va a pasar" in form.text and "no se puede deshacer" in form.text
    assert "Enviarme el código" in form.text and "SMS al +34******678" in form.text
    done = confirm_with_code(site, inbox, path)
    location = done.headers.get("location")
    assert done.status_code == 303 and location is not None
    assert site.api.view(process_id)["status"] == "cancelled"
    page = text_of(site.client.get(location))
    assert "Hecho" in page and "Cancelar el cambio" in page


def test_a_refused_action_shows_the_hubs_reason(site: Site) -> None:
    process_id = site.scheduled()
    site.sign_in(process_id)
    path = f"/my/processes/{process_id}/controls/postpone"
    form = site.client.get(path)
    day = input_attr(form.text, "new_date", "min")
    # Meanwhile, in another tab, the customer cancels.
    assert site.api.act(process_id, "cancel", actor="cust-1", channel="app").status_code == 200
    refused = site.client.post(path, data={"csrf": csrf_of(form.text), "new_date": day})
    assert refused.status_code == 409
    words = text_of(refused)
    assert "No hemos podido hacerlo" in words and "ya ha terminado" in words


def test_a_control_past_its_cut_off_is_shown_with_why_and_what_instead(site: Site) -> None:
    process_id = site.scheduled()
    site.api.clock.advance(hours=29)  # Tuesday 15:00 in Madrid: the cut-off was 14:00
    page = text_of(site.sign_in(process_id))
    assert "Ahora no es posible" in page and "14:00" in page
    assert "Qué puedes hacer en su lugar" in page
    form = site.client.get(f"/my/processes/{process_id}/controls/postpone")
    assert form.status_code == 200 and "<form" not in form.text
    assert "Ahora no es posible" in form.text


def test_the_same_journey_in_english(site: Site, inbox: Inbox) -> None:
    process_id = site.scheduled()
    site.client.get(site.link(process_id))
    page = site.client.get(f"/my/processes/{process_id}?lang=en")
    assert '<html lang="en">' in page.text and "What happens next" in page.text
    # The choice is remembered on the following pages.
    form = site.client.get(f"/my/processes/{process_id}/controls/postpone")
    assert "New switch day" in form.text
    day = input_attr(form.text, "new_date", "min")
    check = site.client.post(
        f"/my/processes/{process_id}/controls/postpone/check",
        data={"csrf": csrf_of(form.text), "new_date": day},
    )
    assert "Check before you confirm" in check.text
    done = site.client.post(
        f"/my/processes/{process_id}/controls/postpone",
        data={"csrf": csrf_of(check.text), "new_date": day},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "Done" in site.client.get(done.headers["location"]).text
    cancel = f"/my/processes/{process_id}/controls/cancel"
    assert "Send me the code" in site.client.get(cancel).text
    assert confirm_with_code(site, inbox, cancel).status_code == 303
    assert site.api.view(process_id)["status"] == "cancelled"
    assert "Your code is" in inbox.access_sms()[-1].text


def test_accept_language_picks_english_and_spanish_is_the_default(site: Site) -> None:
    process_id = site.scheduled()
    site.client.get(site.link(process_id))
    english = site.client.get(
        f"/my/processes/{process_id}", headers={"Accept-Language": "fr;q=0.9, en-GB;q=0.8"}
    )
    assert '<html lang="en">' in english.text
    spanish = site.client.get(f"/my/processes/{process_id}", headers={"Accept-Language": "de"})
    assert '<html lang="es">' in spanish.text
