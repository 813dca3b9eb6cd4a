"""A customer's journey through their page: open the link, read the status, postpone,
choose an incident's option, cancel — in Spanish and in English."""

from __future__ import annotations

from .pages import Site, csrf_of, input_attr, text_of


def test_the_link_signs_in_and_leaves_the_address(site: Site) -> None:
    process_id = site.scheduled()
    response = site.client.get(site.link(process_id), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/my/processes/{process_id}"
    assert response.headers["referrer-policy"] == "no-referrer"
    cookie = response.headers["set-cookie"]
    assert "relevo_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie

    page = site.client.get(f"/my/processes/{process_id}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self';" in page.headers["content-security-policy"]
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert '<html lang="es">' in page.text


def test_the_page_reads_in_the_order_a_worried_person_needs(site: Site) -> None:
    process_id = site.scheduled()
    page = site.sign_in(process_id)
    view = site.api.view(process_id)
    words = text_of(page)
    order = [
        view["headline"],
        "Qué pasa ahora",
        "Las etapas",
        "Fechas importantes",
        "Qué puedes hacer",
        "Historial",
        "Hablar con una persona",
    ]
    positions = [words.find(part) for part in order]
    assert all(p >= 0 for p in positions), list(zip(order, positions, strict=True))
    assert positions == sorted(positions)
    assert "fecha confirmada" in words or "fecha estimada" in words
    assert process_id in words.split("Hablar con una persona")[1]


def test_postpone_with_a_check_step_then_a_banner_and_the_new_date(site: Site) -> None:
    process_id = site.scheduled()
    site.sign_in(process_id)
    form = site.client.get(f"/my/processes/{process_id}/controls/postpone")
    assert form.status_code == 200
    earliest, latest = (
        input_attr(form.text, "new_date", "min"),
        input_attr(form.text, "new_date", "max"),
    )
    assert earliest <= latest
    day = _weekday_between(earliest, latest)
    check = site.client.post(
        f"/my/processes/{process_id}/controls/postpone/check",
        data={"csrf": csrf_of(form.text), "new_date": day},
    )
    assert check.status_code == 200, text_of(check)
    assert "Revisa antes de confirmar" in check.text
    done = site.client.post(
        f"/my/processes/{process_id}/controls/postpone",
        data={"csrf": csrf_of(check.text), "new_date": day},
        follow_redirects=False,
    )
    assert done.status_code == 303, text_of(done)
    page = site.client.get(done.headers["location"])
    assert "Hecho" in page.text and "Cambiar la fecha" in page.text
    assert site.api.view(process_id)["dates"]
    window = next(d for d in site.api.view(process_id)["dates"] if d["id"] == "switch_window")
    assert window["at"].startswith(day)
    assert window["text"] in text_of(page)


def _weekday_between(earliest: str, latest: str) -> str:
    from datetime import date, timedelta

    day = date.fromisoformat(earliest)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    assert day.isoformat() <= latest
    return day.isoformat()


def test_sending_the_same_form_twice_acts_once(site: Site) -> None:
    process_id = site.scheduled()
    site.sign_in(process_id)
    form = site.client.get(f"/my/processes/{process_id}/controls/postpone")
    day = input_attr(form.text, "new_date", "min")
    check = site.client.post(
        f"/my/processes/{process_id}/controls/postpone/check",
        data={"csrf": csrf_of(form.text), "new_date": day, "request": "same-form-1234"},
    )
    assert 'value="same-form-1234"' in check.text
    data = {"csrf": csrf_of(check.text), "new_date": day, "request": "same-form-1234"}
    for _ in range(2):
        done = site.client.post(
            f"/my/processes/{process_id}/controls/postpone", data=data, follow_redirects=False
        )
        assert done.status_code == 303
    history = site.api.view(process_id)["history"]
    assert [row["ref"] for row in history if row["kind"] == "control"] == ["postpone"]


def test_over_https_the_session_cookie_is_secure_and_cut_offs_name_their_zone(
    site: Site,
) -> None:
    process_id = site.scheduled()
    response = site.client.get("https://testserver" + site.link(process_id), follow_redirects=False)
    assert "Secure" in response.headers["set-cookie"]
    page = site.client.get(f"https://testserver/my/processes/{process_id}")
    assert page.status_code == 200
    assert "martes 4 de marzo a las 14:00 (hora de Europa central)" in text_of(page)
    css = site.client.get("/static/page/page.css")
    assert css.status_code == 200 and "focus" in css.text
