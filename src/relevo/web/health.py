"""Liveness and readiness probes (no API key needed)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request

from relevo.adapters.db.migrate import current_revision, head_revision
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
    summary="The database answers and is migrated",
    responses={503: {"model": Problem, "description": "Not ready"}},
)
def readyz(request: Request) -> dict[str, Any]:
    """``ok`` when the database answers and its schema is at the code's revision; else 503."""
    hub: Hub = request.app.state.hub
    engine = hub.store.engine
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        revision = current_revision(engine)
    except sa.exc.SQLAlchemyError as error:
        raise ProblemError(
            503,
            "not-ready",
            "Database unavailable",
            f"The database does not answer ({type(error).__name__}); check RELEVO_DATABASE_URL "
            "and that the server is up.",
        ) from None
    head = head_revision()
    if revision != head:
        raise ProblemError(
            503,
            "not-ready",
            "Database not migrated",
            f"The database schema is at revision {revision or 'none'} and the code needs "
            f"{head}; run 'relevo db upgrade'.",
        )
    return {"status": "ok", "checks": {"database": "ok", "schema": str(head)}}
