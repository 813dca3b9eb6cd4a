"""The operator's own commitments are its terms (issue 15): where neither rules.md nor a
regulation sets how long something takes, a definition names a commitment of the operator's
terms (``commitments.bill_correction working_days``) instead of writing a number, and the
operator's ``operator.toml`` gives its one value, never longer than a regulatory limit.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from relevo.domain import rendering
from relevo.domain.compiled import compile_definition
from relevo.domain.errors import DefinitionError, Problem
from relevo.domain.operator_terms import OperatorTerms, parse_terms
from relevo.services.catalog import Catalog, load_terms, shipped_files

from .helpers import CATALOG, Run, accepted, load, madrid, refusal

SHIPPED_TEXT = (CATALOG / "operator.toml").read_text(encoding="utf-8")
BILLING = "billing_cycle.v2.yaml"
BILLING_TEXT = (CATALOG / BILLING).read_text(encoding="utf-8")
BILL = {
    "bill_number": "F2026-000123",
    "amount": "48.30",
    "issued_on": "2026-12-01",
    "due_date": "2026-12-15",
}


def _terms_text(**durations: str) -> str:
    """The shipped terms' text with the ``duration`` of the named commitments changed."""
    text = SHIPPED_TEXT
    for name, value in durations.items():
        table = re.compile(rf'(\[commitments\.{name}\]\n(?:[a-z_]+ = .*\n)*?duration = )"[^"]*"')
        assert table.search(text), name
        text = table.sub(rf'\g<1>"{value}"', text, count=1)
    return text


def _terms(**durations: str) -> OperatorTerms:
    """The shipped terms with the ``duration`` of the named commitments changed."""
    return parse_terms(_terms_text(**durations), "operator.toml")


def _problems(text: str, filename: str = "operator.toml") -> list[Problem]:
    with pytest.raises(DefinitionError) as error:
        parse_terms(text, filename)
    return error.value.problems


def _line(text: str, needle: str) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(lines) == 1, (needle, lines)
    return lines[0]


def _claimed(terms: OperatorTerms) -> Run:
    """A telecom bill claimed on Thursday 3 December 2026 (8 December is a holiday)."""
    c = compile_definition(load(BILLING).definition, terms)
    attributes = {
        "sector": "telecom",
        "period_start": "2026-11-01",
        "period_end": "2026-11-30",
    }
    run = Run.start(c, madrid(2026, 11, 2, 9, 0), subject="C1234567-2026-11", attributes=attributes)
    accepted(run.send("bill.issued", BILL, at=madrid(2026, 12, 1, 9, 30)))
    run.act("dispute_bill", {"reason": "wrong_amount"}, at=madrid(2026, 12, 3, 10, 0))
    return run


def _message(run: Run, template: str) -> str:
    """The English text of a notification as sent now."""
    return rendering.render(run.c.notification_by_template[template].text, run.c, run.state, "en")


def _description(run: Run, control: str, lang: str) -> str:
    row = next(row for row in run.view(lang)["controls"] if row["id"] == control)
    return str(row["description"])


# -- the shipped terms: the values the definitions wrote before -------------------------------


def test_the_shipped_commitments_keep_the_dates_the_definition_gave_before() -> None:
    run = _claimed(load_terms())
    assert run.date("claim_answer_by") == madrid(2026, 12, 28, 23, 59)
    accepted(run.send("claim.resolved", {"outcome": "upheld"}, at=madrid(2026, 12, 18, 10, 0)))
    assert run.date("correction_due") == madrid(2027, 1, 5, 23, 59)


def test_every_shipped_commitment_is_named_by_a_definition_and_says_where_it_comes_from() -> None:
    shipped = load_terms()
    named = {
        name
        for _, text in shipped_files()
        for name in shipped.commitments
        if f"commitments.{name}" in text
    }
    assert named == set(shipped.commitments)
    assert all(c.source and c.verify for c in shipped.commitments.values())


# -- an operator's own terms move what the customer is told ------------------------------------


def test_an_operators_shorter_commitments_move_the_dates_and_the_texts() -> None:
    terms = _terms(claim_answer="10 working_days", bill_correction="5 working_days")
    run = _claimed(terms)
    # Ten working days from Thursday 3 December, skipping 8 December.
    assert run.date("claim_answer_by") == madrid(2026, 12, 18, 23, 59)
    assert "10 working days" in _description(run, "dispute_bill", "en")
    assert "18 December" in _message(run, "claim_received")

    accepted(run.send("claim.resolved", {"outcome": "upheld"}, at=madrid(2026, 12, 18, 10, 0)))
    # Five working days from Friday 18 December, skipping 25 December.
    assert run.date("correction_due") == madrid(2026, 12, 28, 23, 59)
    assert "28 December" in run.headline("en")
    assert "28 December" in _message(run, "claim_upheld")


def test_the_text_names_the_operators_commitment_in_both_languages() -> None:
    run = _claimed(load_terms())
    run_es = _description(run, "dispute_bill", "es")
    assert "15 días laborables" in run_es and "{" not in run_es
    assert "15 working days" in _description(run, "dispute_bill", "en")


def _plan_requested(terms: OperatorTerms) -> Run:
    """A telecom bill unpaid past its due date; the customer asked to pay in 3 instalments
    on Wednesday 23 December 2026 (25 December is a holiday)."""
    c = compile_definition(load(BILLING).definition, terms)
    attributes = {"sector": "telecom", "period_start": "2026-11-01", "period_end": "2026-11-30"}
    run = Run.start(c, madrid(2026, 11, 2, 9, 0), subject="C1234567-2026-11", attributes=attributes)
    accepted(run.send("bill.issued", BILL, at=madrid(2026, 12, 1, 9, 30)))
    run.advance(madrid(2026, 12, 23, 9, 0))
    assert run.state.stage == "payment_overdue"
    run.act("request_payment_plan", {"instalments": "3"}, at=madrid(2026, 12, 23, 10, 0))
    return run


def _instead(run: Run, control: str, lang: str) -> str:
    row = next(row for row in run.view(lang)["controls"] if row["id"] == control)
    return str(row["instead"])


def test_what_to_do_instead_names_the_operators_commitment() -> None:
    # The call to agree a payment plan is the operator's promise: the task's deadline and
    # what the customer reads when asking again follow the operator's terms.
    shipped = _plan_requested(load_terms())
    assert _instead(shipped, "request_payment_plan", "es") == (
        "Ya nos has pedido un plan de pagos; te llamamos en 2 días laborables."
    )
    # Two working days from Wednesday 23 December at 10:00, skipping 25 December.
    assert shipped.task("payment_plan")["due_at"] == "2026-12-28T09:00:00+00:00"

    own = _plan_requested(_terms(payment_plan_call="4 working_days"))
    assert own.task("payment_plan")["due_at"] == "2026-12-30T09:00:00+00:00"
    assert _instead(own, "request_payment_plan", "en") == (
        "You have already asked for a payment plan; we call you within 4 working days."
    )
    refused = refusal(own, "request_payment_plan", {"instalments": "6"})
    assert refused.instead is not None and "4 días laborables" in refused.instead.es


def test_a_placeholder_in_what_to_do_instead_is_checked_when_loading() -> None:
    broken = BILLING_TEXT.replace(
        "te llamamos en {commitments.payment_plan_call}.", "te llamamos en {plan_call}."
    )
    with pytest.raises(DefinitionError) as error:
        Catalog.from_texts([(BILLING, broken)])
    messages = {p.path: p.message for p in error.value.problems}
    assert (
        "placeholder {plan_call} names no date"
        in messages["controls.request_payment_plan.instead.es"]
    )


# -- what the operator's file may say -----------------------------------------------------------


def test_a_commitment_longer_than_the_regulatory_limit_is_refused_with_its_line() -> None:
    text = _terms_text(claim_answer="20 working_days")
    (problem,) = _problems(text)
    assert problem.path == "commitments.claim_answer"
    assert problem.line == _line(text, "[commitments.claim_answer]")
    assert "longer than the regulatory_limit" in problem.message


def test_a_regulatory_limit_in_another_unit_is_refused() -> None:
    text = SHIPPED_TEXT.replace(
        'regulatory_limit = "15 working_days"', 'regulatory_limit = "21 days"'
    )
    (problem,) = _problems(text)
    assert "different units" in problem.message


def test_a_commitment_that_is_not_a_duration_is_refused_with_its_line() -> None:
    text = _terms_text(bill_correction="10 workdays")
    (problem,) = _problems(text)
    assert problem.path == "commitments.bill_correction.duration"
    assert problem.line == _line(text, 'duration = "10 workdays"')
    assert "invalid duration" in problem.message


# -- what a definition may name -----------------------------------------------------------------


def test_a_definition_naming_an_unknown_commitment_does_not_load() -> None:
    broken = BILLING_TEXT.replace(
        "due: commitments.claim_answer working_days", "due: commitments.claim_anwser working_days"
    )
    with pytest.raises(DefinitionError) as error:
        Catalog.from_texts([(BILLING, broken)])
    (problem,) = error.value.problems
    assert (problem.file, problem.path) == (BILLING, "tasks.review_claim.due")
    assert problem.line == _line(broken, "commitments.claim_anwser")
    assert "'claim_anwser' is not in the operator's terms" in problem.message
    assert "known commitments: account_closure, bill_correction, claim_answer," in problem.message


def test_a_commitment_counted_in_another_unit_does_not_load() -> None:
    terms = _terms(refund_resend="7 days")
    with pytest.raises(DefinitionError) as error:
        Catalog.from_texts([(BILLING, BILLING_TEXT)], terms)
    paths = {p.path for p in error.value.problems}
    assert paths == {"controls.choose_refund_account.dates.correction_due.rule"}
    (problem,) = error.value.problems
    assert problem.line == _line(BILLING_TEXT, "now + commitments.refund_resend working_days")
    assert "is 7 days in the operator's terms" in problem.message


def test_a_malformed_reference_is_a_definition_error_with_its_line() -> None:
    broken = BILLING_TEXT.replace(
        "due: commitments.claim_answer working_days", "due: commitments.claim_answer workdays"
    )
    with pytest.raises(DefinitionError) as error:
        Catalog.from_texts([(BILLING, broken)])
    (problem,) = error.value.problems
    assert problem.path == "tasks.review_claim.due"
    assert problem.line == _line(broken, "commitments.claim_answer workdays")


def test_an_operator_file_without_the_commitments_refuses_to_start(tmp_path: Path) -> None:
    # An operator's own file replaces the shipped one whole: one written before commitments
    # existed gives none, and every place a definition names one is listed.
    rights_only = SHIPPED_TEXT.split("\n# The operator's own commitments")[0]
    (tmp_path / "operator.toml").write_text(rights_only, encoding="utf-8")
    with pytest.raises(DefinitionError) as error:
        Catalog.load(tmp_path)
    missing = [p for p in error.value.problems if "not in the operator's terms" in p.message]
    assert missing and all(p.line is not None for p in missing)
    assert {(p.file, p.path) for p in missing if p.file in (BILLING, "telecom_move.v1.yaml")} >= {
        (BILLING, "tasks.review_claim.due"),
        (BILLING, "controls.dispute_bill.dates.claim_answer_by.rule"),
        (BILLING, "controls.dispute_bill.description.en"),
        ("telecom_move.v1.yaml", "stages.0.sla.0.within"),
    }
    # Every shipped commitment is named in at least one problem.
    assert {
        name for name in load_terms().commitments for p in missing if f"{name}" in p.message
    } == set(load_terms().commitments)


def test_compiling_without_the_commitments_says_which_are_missing() -> None:
    with pytest.raises(ValueError, match="commitment 'bill_correction' is not in the operator"):
        compile_definition(load(BILLING).definition, OperatorTerms())


def _change_requested(terms: OperatorTerms) -> Run:
    """A billing address change asked on Wednesday 7 October 2026 and validated (12 October
    is a national holiday)."""
    c = compile_definition(load("billing_data_change.v2.yaml").definition, terms)
    attributes = {
        "sector": "telecom",
        "change_type": "billing_address",
        "installation_address": "Calle Mayor 1, 28013 Madrid",
        "old_billing_address": "Calle Mayor 1, 28013 Madrid",
        "new_billing_address": "Avenida de América 20, 3º B, 28028 Madrid",
    }
    run = Run.start(c, madrid(2026, 10, 7, 10, 0), subject="EN-000123456", attributes=attributes)
    accepted(run.send("request.validated", at=madrid(2026, 10, 7, 12, 0)))
    return run


def _delayed(run: Run, lang: str) -> str:
    row = next(r for r in run.view(lang)["incidents"] if r["code"] == "CHANGE_DELAYED")
    return str(row["what_happened"])


@pytest.mark.parametrize(
    ("terms", "late_from", "said"),
    [
        (load_terms(), madrid(2026, 10, 15, 10, 0), "5 working days"),
        (_terms(details_change="3 working_days"), madrid(2026, 10, 13, 10, 0), "3 working days"),
    ],
    ids=["shipped", "own"],
)
def test_a_change_of_details_is_late_after_the_operators_commitment(
    terms: OperatorTerms, late_from: datetime, said: str
) -> None:
    run = _change_requested(terms)
    run.advance(late_from - timedelta(minutes=1))
    assert run.state.open_incidents() == []
    run.advance(late_from)
    assert run.state.open_incidents() == ["CHANGE_DELAYED"]
    assert said in _delayed(run, "en")
    assert said.replace("working days", "días laborables") in _delayed(run, "es")
