"""Compensation amounts are the operator's terms (issue 15): one place, one value per right,
and the customer is told whether regulation or our own commitment sets each amount.

Source: rules.md §0.1 and §1.9 (EECC art. 106(7) makes porting delays and missed appointments
compensable; the Spanish end-user amounts are not verified, §9 item 3), so no shipped right
claims a regulatory minimum.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from relevo.domain.compiled import compile_definition
from relevo.domain.errors import DefinitionError
from relevo.domain.operator_terms import OperatorTerms, parse_terms
from relevo.services.catalog import Catalog, load_terms, shipped_files

from .helpers import CATALOG, Run, accepted, load, madrid

SHIPPED = load_terms()
RIGHT = """
[compensation.missed_appointment]
title = "A missed technician visit"
per = "once"
amount = "{amount}"
source = "Real Decreto (example)"
{extra}
"""


def _terms(amount: str, extra: str = "") -> OperatorTerms:
    """One right as written, with the shipped commitments (the definitions name them)."""
    terms = parse_terms(RIGHT.format(amount=amount, extra=extra), "operator.toml")
    return terms.model_copy(update={"commitments": SHIPPED.commitments})


def _missed_visit_row(terms: OperatorTerms, lang: str = "en") -> dict[str, object]:
    c = compile_definition(load("service_request.v1.yaml").definition, terms)
    attributes = {"category": "fault", "sector": "telecom", "service_ref": "912345678"}
    run = Run.start(c, madrid(2026, 11, 30, 10, 0), subject="SR-2026-000123", attributes=attributes)
    accepted(run.send("case.assigned", {"case_id": "CRM-991", "team": "fixed_faults"}))
    visit = {"start": "2026-12-03T08:00:00+01:00", "work_order_id": "WO-1"}
    accepted(run.send("appointment.booked", visit, at=madrid(2026, 11, 30, 12, 0)))
    accepted(run.send("appointment.missed", {"by": "technician"}, at=madrid(2026, 12, 3, 13, 0)))
    (row,) = run.view(lang)["compensation"]
    return row


def test_no_definition_writes_an_amount_and_no_right_quotes_a_foreign_regulator() -> None:
    for name, text in shipped_files():
        assert 'amount: "' not in text.split("\ncompensation:")[-1], name
    shipped = (CATALOG / "operator.toml").read_text(encoding="utf-8")
    for foreign in ("ANACOM", "Ofcom", "Portugal", "£"):
        assert foreign not in shipped
    # Nothing Spanish is verified, so nothing is presented as set by regulation.
    assert all(right.regulatory_minimum is None for right in SHIPPED.compensation.values())


def test_a_missed_technician_visit_is_worth_the_same_in_every_process() -> None:
    rights = {
        (kind.kind, rule.right)
        for kind in Catalog.load().all()
        for rule in kind.definition.compensation.values()
        if rule.on_incident is not None
    }
    assert rights == {
        ("fixed_port_in", "missed_appointment"),
        ("service_request", "missed_appointment"),
        ("telecom_move", "missed_appointment"),
    }
    assert SHIPPED.compensation["missed_appointment"].amount == Decimal("30.00")


def test_the_customer_is_told_an_amount_without_regulation_is_our_commitment() -> None:
    row = _missed_visit_row(SHIPPED)
    assert (row["amount"], row["basis"], row["regulatory_minimum"]) == ("30.00", "commitment", None)
    assert str(row["explanation"]).endswith(
        "This is our own commitment under our terms; it is not an amount set by regulation."
    )


def test_an_amount_equal_to_the_regulatory_minimum_is_said_to_be_set_by_regulation() -> None:
    row = _missed_visit_row(_terms("15.00", 'regulatory_minimum = "15.00"'), "es")
    assert (row["amount"], row["basis"], row["regulatory_minimum"]) == (
        "15.00",
        "regulation",
        "15.00",
    )
    assert str(row["explanation"]).endswith("Es el importe que fija la normativa.")


def test_an_amount_above_the_regulatory_minimum_names_the_minimum() -> None:
    row = _missed_visit_row(_terms("25.00", 'regulatory_minimum = "15.00"'))
    assert row["basis"] == "commitment"
    assert str(row["explanation"]).endswith(
        "Regulation sets a minimum of €15.00; what we give above it is our own commitment."
    )


def test_an_amount_below_the_regulatory_minimum_is_refused() -> None:
    with pytest.raises(DefinitionError) as error:
        _terms("10.00", 'regulatory_minimum = "15.00"')
    assert "below the regulatory_minimum" in str(error.value.problems[0])


def test_a_definition_naming_a_right_the_terms_lack_does_not_load(tmp_path: Path) -> None:
    (tmp_path / "operator.toml").write_text(RIGHT.format(amount="5.00", extra=""), encoding="utf-8")
    with pytest.raises(DefinitionError) as error:
        Catalog.load(tmp_path)
    messages = {f"{p.file}:{p.path}" for p in error.value.problems}
    assert "fixed_port_in.v1.yaml:compensation.port_delay.right" in messages
    problem = next(p for p in error.value.problems if p.path == "compensation.port_delay.right")
    assert problem.line is not None and "not in the operator's terms" in problem.message


def test_an_operator_file_in_the_catalog_folder_replaces_the_shipped_terms(tmp_path: Path) -> None:
    shipped = (CATALOG / "operator.toml").read_text(encoding="utf-8")
    (tmp_path / "operator.toml").write_text(
        shipped.replace('amount = "30.00"', 'amount = "12.00"'), encoding="utf-8"
    )
    catalog = Catalog.load(tmp_path)
    terms = catalog.latest("service_request").terms
    assert terms.compensation["missed_appointment"].amount == Decimal("12.00")


def test_a_right_counted_another_way_is_refused() -> None:
    text = (CATALOG / "operator.toml").read_text(encoding="utf-8")
    terms = parse_terms(text.replace('per = "once"', 'per = "day"'), "operator.toml")
    with pytest.raises(DefinitionError) as error:
        Catalog.from_texts(shipped_files(), terms)
    assert any("per day in the operator's terms" in p.message for p in error.value.problems)


def test_the_operator_contact_is_read_with_defaults_and_checked() -> None:
    assert load_terms().contact.phone == "1004"
    assert _terms("30.00").contact.phone == "1004"  # a file without [contact]
    own = parse_terms(
        '[contact]\nphone = "+34 900 123 456"\nemail = "ayuda@example.com"\n', "operator.toml"
    )
    assert own.contact.phone_uri == "tel:+34900123456"
    assert own.contact.email == "ayuda@example.com"
    with pytest.raises(DefinitionError, match=r"contact\.phone"):
        parse_terms('[contact]\nphone = "call us"\n', "operator.toml")
    shipped = Catalog.load()
    assert shipped.terms.contact == load_terms().contact
