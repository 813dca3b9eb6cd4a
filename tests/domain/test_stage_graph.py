"""Where a definition's steps can take a process (``relevo.domain.stage_graph``)."""

from __future__ import annotations

from pathlib import Path

import yaml

from relevo.domain import validation
from relevo.domain.definitions import Definition
from relevo.domain.stage_graph import reachable, stage_moves

CATALOG = Path(__file__).resolve().parents[2] / "src" / "relevo" / "catalog"


def port_in(edit: tuple[str, str] | None = None) -> Definition:
    """The shipped mobile port-in, with ``edit`` (old, new) made to its text; not checked
    beyond its schema, so it may name stages it does not declare."""
    text = (CATALOG / "mobile_port_in.v1.yaml").read_text(encoding="utf-8")
    if edit is not None:
        assert text.count(edit[0]) == 1
        text = text.replace(*edit)
    return Definition.model_validate(yaml.load(text, Loader=validation.DefinitionLoader))


def test_a_stage_reaches_itself_and_every_stage_its_steps_lead_to() -> None:
    moves = stage_moves(port_in())

    # The donor may reject the request: back to "requested", from where it starts again.
    assert moves["donor_check"] == {"requested", "scheduled"}
    assert reachable(moves, "requested") == {
        "requested",
        "donor_check",
        "scheduled",
        "porting",
        "active",
    }
    assert reachable(moves, "porting") == {"porting", "active"}
    assert reachable(moves, "active") == {"active"}


def test_a_step_from_every_stage_reaches_its_target_from_each() -> None:
    moves = stage_moves(
        port_in(
            (
                "    from: [scheduled, porting]\n    to: active\n",
                "    from: ['*']\n    to: active\n",
            )
        )
    )

    # One step from each stage, not only a path through the others.
    assert all("active" in moves[stage] for stage in moves)


def test_a_step_naming_an_unknown_stage_is_left_out() -> None:
    moves = stage_moves(
        port_in(
            (
                "    from: [scheduled, porting]\n    to: active\n",
                "    from: [portin]\n    to: active\n",
            )
        )
    )

    assert "portin" not in moves
    assert reachable(moves, "portin") == {"portin"}
