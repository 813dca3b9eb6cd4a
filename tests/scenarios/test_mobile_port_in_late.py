"""Mobile port-in read after a planned date has passed without the step that should follow.

The status view never announces a past date as the future: a week after a missed switch
window it says the step is late, what we are doing and what the customer is owed, in
Spanish and English; compensation counts only time spent in the stages it is owed in.
"""

from __future__ import annotations

from .helpers import Run, accepted, load, madrid

C = load("mobile_port_in.v2.yaml")
MONDAY = madrid(2026, 11, 30, 10, 0)
NEXT_MONDAY = madrid(2026, 12, 7, 10, 0)


def stuck_in_requested() -> Run:
    run = Run.start(C, MONDAY)
    run.advance(NEXT_MONDAY)
    assert run.state.stage == "requested"
    return run


def stuck_in_porting() -> Run:
    run = Run.start(C, MONDAY)
    accepted(
        run.send("nc.accepted", {"reference": "21400000000000000000001", "window": "2026-12-02"})
    )
    accepted(run.send("donor.confirmed", at=madrid(2026, 11, 30, 16, 0)))
    run.advance(madrid(2026, 12, 9, 10, 0))
    assert run.state.stage == "porting"
    return run


def test_a_week_after_a_missed_window_the_request_reads_late_not_if_all_goes_well() -> None:
    run = stuck_in_requested()
    es, en = run.view("es"), run.view("en")
    assert es["headline"] == (
        "Este paso se ha retrasado: estaba previsto para el miércoles 2 de diciembre y aún no "
        "ha ocurrido. Nuestro equipo ya está en ello y te avisaremos en cuanto avance."
    )
    assert en["headline"] == (
        "This step is late: it was planned for Wednesday 2 December and has not happened yet. "
        "Our team is on it and we will let you know as soon as it moves on."
    )
    assert es["headline_late"] and en["headline_late"]
    assert "Si todo va bien" not in es["headline"] and "If all goes well" not in en["headline"]
    assert en["next"]["late"] is True
    assert en["next"]["what"] == (
        "This step is late: it was planned for Tuesday 1 December at 10:00 and has not "
        "happened yet. Our team is on it and we will let you know as soon as it moves on."
    )
    assert {row["id"]: row["late"] for row in en["dates"]}["switch_window"] is True
    assert [row["id"] for row in en["stages"] if row["late"]] == [
        "donor_check",
        "scheduled",
        "porting",
    ]


def test_a_process_stuck_in_requested_is_owed_no_delay_compensation() -> None:
    run = stuck_in_requested()
    run.advance(madrid(2026, 12, 9, 10, 0))  # past the activation deadline, too
    for lang in ("es", "en"):
        page = run.view(lang)
        assert page["compensation"] == []
        assert "€" not in page["headline"] and "€" not in page["next"]["what"]


def test_a_week_after_the_window_a_port_stuck_in_porting_says_what_is_owed() -> None:
    run = stuck_in_porting()
    es, en = run.view("es"), run.view("en")
    assert es["headline"] == (
        "Este paso se ha retrasado: estaba previsto para el miércoles 2 de diciembre y aún no "
        "ha ocurrido. Estamos reclamando al sistema central de portabilidad una respuesta y te "
        "avisaremos en cuanto la tengamos. Por el retraso te corresponde una compensación de "
        "12,50\xa0€ hasta hoy."
    )
    assert en["headline"] == (
        "This step is late: it was planned for Wednesday 2 December and has not happened yet. "
        "We are chasing the central portability system for an answer and will let you know as "
        "soon as we have it. For the delay you are owed €12.50 in compensation so far."
    )
    assert "Estará listo hacia" not in es["headline"]
    assert en["next"]["late"] is True
    assert en["next"]["what"].startswith(
        "This step is late: it was planned for Thursday 3 December at 20:00"
    )
    (row,) = en["compensation"]
    assert (row["amount"], row["units"]) == ("12.50", 5)


def test_compensation_counts_only_from_when_the_port_reached_its_stages() -> None:
    run = Run.start(C, MONDAY)
    run.advance(madrid(2026, 12, 8, 10, 0))  # stuck in requested past the deadline
    accepted(
        run.send("nc.accepted", {"reference": "21400000000000000000001", "window": "2026-12-02"})
    )
    accepted(run.send("donor.confirmed"))
    run.advance(madrid(2026, 12, 10, 10, 0))
    assert run.state.stage in ("scheduled", "porting")
    (row,) = run.view("en")["compensation"]
    assert row["units"] == 2  # two days in scheduled/porting, not since 3 December


def test_before_the_window_the_headline_still_announces_it() -> None:
    run = Run.start(C, MONDAY)
    page = run.view("en")
    assert page["headline"].startswith("We have your request. If all goes well")
    assert page["headline_late"] is False
    assert page["next"]["late"] is False


def test_a_process_stored_with_an_unknown_time_zone_still_reads_in_spanish_time() -> None:
    # Starts refuse unknown zones now; a process stored before that must not break its view.
    run = stuck_in_requested()
    run.state.timezone = "Mars/Olympus_Mons"

    es = run.view("es")

    assert "miércoles 2 de diciembre" in es["headline"]
