"""What a process page shows beyond the status view (``relevo.web.pages.parts``)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from relevo.web.pages.parts import date_tagger, page_context


def control(id_: str, **fields: Any) -> dict[str, Any]:
    row = {"allowed": False, "possible": True, "guidance": False, "reason_code": "stage"}
    return {"id": id_, **row, **fields}


def view_with(controls: list[dict[str, Any]], incidents: list[dict[str, Any]]) -> dict[str, Any]:
    return {"controls": controls, "incidents": incidents, "dates": [], "headline_date": None}


NO_CONTROLS = SimpleNamespace(definition=SimpleNamespace(controls={}))


def test_controls_are_grouped_as_the_customer_reads_them() -> None:
    view = view_with(
        [
            control("postpone", allowed=True),
            control("cancel", reason_code="cutoff_passed"),
            control("upload"),
            control("withdraw", possible=False),
            control("port_out_cancel", possible=False, guidance=True),
        ],
        [],
    )

    parts = page_context(NO_CONTROLS, view)  # type: ignore[arg-type]

    assert [c["id"] for c in parts["shown_controls"]] == ["postpone", "cancel"]
    assert [c["id"] for c in parts["other_controls"]] == ["upload", "port_out_cancel"]


def test_an_open_incident_offers_only_the_options_still_possible() -> None:
    view = view_with(
        [control("retry", allowed=True), control("gone", possible=False)],
        [
            {"status": "open", "options": ["retry", "gone", "unknown"]},
            {"status": "resolved", "options": ["retry"]},
        ],
    )

    parts = page_context(NO_CONTROLS, view)  # type: ignore[arg-type]

    [(incident, options)] = parts["open_incidents"]
    assert incident["status"] == "open"
    assert [c["id"] for c in options] == ["retry"]


def test_a_date_tag_says_late_confirmed_or_estimated_and_nothing_for_an_actual_date() -> None:
    tag = date_tagger("en")

    assert tag(True, True) == '<span class="tag tag-late">late</span>'
    assert tag(True) == '<span class="tag tag-confirmed">confirmed date</span>'
    assert tag(False) == '<span class="tag tag-estimated">estimated date</span>'
    assert tag(None) == ""
    assert "fecha estimada" in date_tagger("es")(False)
