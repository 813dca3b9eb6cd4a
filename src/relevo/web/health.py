"""Liveness and readiness probes (no API key needed)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from relevo.services import outbox_admin
from relevo.services.hub import Hub
from relevo.web.problems import ProblemError
from relevo.web.schemas import Health, Problem

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is up")
def healthz() -> dict[str, Any]:
    """Always ``ok`` while the process can answer HTTP."""
    return {"status": "ok", "checks": {}}


@router.get(
    "/readyz",
    response_model=Health,
    summary="The database answers, is migrated, takes writes, and the outbox moves",
    responses={503: {"model": Problem, "description": "Not ready"}},
)
def readyz(request: Request) -> dict[str, Any]:
    """``ok`` when the database answers, its schema is at the code's revision, it can take
    writes and the oldest due outbox message has not waited longer than the configured
    threshold; else 503."""
    hub: Hub = request.app.state.hub
    ready = hub.readiness()
    if not ready.reachable:
        raise ProblemError(
            503,
            "not-ready",
            "Database unavailable",
            f"The database does not answer ({ready.problem}); check RELEVO_DATABASE_URL "
            "and that the server is up.",
        )
    if ready.revision != ready.head:
        raise ProblemError(
            503,
            "not-ready",
            "Database not migrated",
            f"The database schema is at revision {ready.revision or 'none'} and the code needs "
            f"{ready.head}; run 'relevo db upgrade'.",
        )
    if not ready.writable:
        raise ProblemError(
            503,
            "not-ready",
            "Database cannot write",
            f"The database answers but cannot take writes ({ready.problem}); check that it is "
            "not a read-only file or replica and that its disk has room.",
        )
    age = outbox_admin.oldest_due_age(hub.store, hub.clock)
    stuck_after: float = request.app.state.backlog_stuck_seconds
    if age > stuck_after:
        raise ProblemError(
            503,
            "not-ready",
            "Outbox backlog stuck",
            f"The oldest due outbox message has waited {age:.0f} s (more "
            f"than {stuck_after:g} s); check that 'relevo worker' runs and that its receivers "
            "answer ('relevo outbox list --status pending').",
        )
    checks = {"database": "ok", "schema": str(ready.head), "outbox": "ok"}
    return {"status": "ok", "checks": checks}
