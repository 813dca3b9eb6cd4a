"""Who may see a customer's page, and what odd input gets: links that expired or were
altered, someone else's process, forms without their CSRF token, and input no form should
send — always a page that says what to do, never a 500."""

from __future__ import annotations

import pytest

from .pages import Site, csrf_of, text_of


def test_an_expired_link_says_so(site: Site) -> None:
    process_id = site.scheduled()
    link = site.link(process_id, hours=1)
    site.api.clock.advance(hours=2)
    response = site.client.get(link, follow_redirects=False)
    assert response.status_code == 410
    assert "Este enlace ha caducado" in response.text
    assert "relevo_session" not in response.headers.get("set-cookie", "")
    english = site.client.get(link + "?lang=en")
    assert "This link has expired" in english.text


@pytest.mark.parametrize("change", ["tampered", "malformed", "swapped"])
def test_an_altered_link_is_refused(site: Site, change: str) -> None:
    process_id = site.scheduled()
    link = site.link(process_id)
    if change == "tampered":
        link = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    elif change == "malformed":
        link = "/p/not-a-token"
    else:  # another customer's name put in the payload of a genuine link
        _, signature = link.removeprefix("/p/").split(".")
        link = "/p/" + site.link(process_id, "cust-2").removeprefix("/p/").split(".")[0]
        link += "." + signature
    response = site.client.get(link, follow_redirects=False)
    assert response.status_code == 400
    assert "Este enlace no es válido" in response.text
    assert "relevo_session" not in response.headers.get("set-cookie", "")


def test_another_customers_process_reads_like_one_that_does_not_exist(site: Site) -> None:
    mine = site.scheduled("cust-1", "612345678")
    theirs = site.scheduled("cust-2", "622222222")
    site.sign_in(mine)
    other = site.client.get(f"/my/processes/{theirs}")
    unknown = site.client.get("/my/processes/prc_doesnotexist")
    assert other.status_code == unknown.status_code == 404
    assert text_of(other) == text_of(unknown)
    assert "622222222" not in other.text
    form = site.client.get(f"/my/processes/{theirs}/controls/cancel")
    assert form.status_code == 404
    token = csrf_of(site.client.get(f"/my/processes/{mine}/controls/cancel").text)
    post = site.client.post(f"/my/processes/{theirs}/controls/cancel", data={"csrf": token})
    assert post.status_code == 404
    assert site.api.view(theirs)["status"] == "active"
    listing = site.client.get("/my")
    assert mine in listing.text and theirs not in listing.text


def test_without_a_session_the_page_asks_for_the_link_again(site: Site) -> None:
    process_id = site.scheduled()
    response = site.client.get(f"/my/processes/{process_id}")
    assert response.status_code == 401
    assert "abre de nuevo el enlace" in response.text
    site.client.cookies.set("relevo_session", "forged.value")
    assert site.client.get(f"/my/processes/{process_id}").status_code == 401


def test_the_session_ends_after_its_lifetime(site: Site) -> None:
    process_id = site.scheduled()
    site.sign_in(process_id)
    site.api.clock.advance(hours=13)
    assert site.client.get(f"/my/processes/{process_id}").status_code == 401


@pytest.mark.parametrize("token", [None, "", "0" * 64, "x"])
def test_a_form_without_its_csrf_token_is_refused(site: Site, token: str | None) -> None:
    process_id = site.scheduled()
    site.sign_in(process_id)
    data = {} if token is None else {"csrf": token}
    response = site.client.post(f"/my/processes/{process_id}/controls/cancel", data=data)
    assert response.status_code == 403
    assert "No hemos podido enviar el formulario" in response.text
    assert site.api.view(process_id)["status"] == "active"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("x" * 5000, "demasiado largo"),
        ("2025-03-06\x00", "caracteres no válidos"),
        ("2025-02-30", "fecha válida"),
        ("06/03/2025", "fecha válida"),
        ("", "Rellena este campo"),
        ("9999-12-31", "Elige un día"),
        ("2025-03-08", "fin de semana"),
    ],
)
def test_odd_dates_get_their_message_next_to_the_field(
    site: Site, value: str, message: str
) -> None:
    process_id = site.scheduled()
    site.sign_in(process_id)
    path = f"/my/processes/{process_id}/controls/postpone"
    token = csrf_of(site.client.get(path).text)
    for step in (path + "/check", path):
        response = site.client.post(step, data={"csrf": token, "new_date": value})
        assert response.status_code == 422, text_of(response)
        field = response.text.split('id="field-new_date"')[0].rsplit('<div class="field', 1)[1]
        assert 'class="error"' in field
        assert message.lower() in text_of(response).lower()
    assert site.api.view(process_id)["dates"][1]["at"].startswith("2025-03-05")


def test_odd_bodies_never_fail_the_server(site: Site) -> None:
    process_id = site.scheduled()
    site.sign_in(process_id)
    path = f"/my/processes/{process_id}/controls/postpone"
    token = csrf_of(site.client.get(path).text)
    broken = site.client.post(
        path,
        content=b'--xyz\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n' + token.encode(),
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert broken.status_code in (400, 403, 422)
    assert broken.headers["content-type"].startswith("text/html")
    nul_id = site.client.get("/my/processes/prc_%00x")
    assert nul_id.status_code == 404
    long_id = site.client.get("/my/processes/" + "a" * 5000)
    assert long_id.status_code == 404
    unknown = site.client.get(f"/my/processes/{process_id}/controls/launch_rocket")
    assert unknown.status_code == 404
    not_ascii = site.client.post(path, data={"csrf": "é" * 64, "new_date": "2025-03-06"})
    assert not_ascii.status_code == 403
