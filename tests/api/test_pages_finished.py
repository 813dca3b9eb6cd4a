"""The page of a cancelled process shows what happened, not plans that will not happen."""

from __future__ import annotations

from .pages import Site, text_of


def test_a_cancelled_process_shows_no_dates_for_what_will_not_happen(site: Site) -> None:
    process_id = site.scheduled()
    before = text_of(site.sign_in(process_id))
    assert "Fechas importantes" in before and "Pendiente" in before
    assert site.api.act(process_id, "cancel", actor="cust-1", channel="app").status_code == 200
    words = text_of(site.client.get(f"/my/processes/{process_id}"))
    stages = words.split("Las etapas")[1].split("Qué puedes hacer")[0]
    assert "No se llegó a hacer" in stages
    assert "Pendiente" not in stages and "fecha estimada" not in stages
    assert "Fechas importantes" not in words
    view = site.api.view(process_id, "en")
    ahead = [row for row in view["stages"] if row["state"] == "not_reached"]
    assert ahead and all(row["date"] is None for row in ahead)
    assert {row["state_label"] for row in ahead} == {"Did not happen"}
