"""The outbound routes: the outbox and its replays, webhook subscriptions (admin scope),
and a process's notification attempts (channel scope)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from relevo.services import outbox_admin, subscriptions
from relevo.services.hub import Hub
from relevo.services.processes import NotFound
from relevo.web.api import ProcessId, _doc
from relevo.web.auth import AdminKey, ChannelKey
from relevo.web.problems import ProblemError

router = APIRouter(prefix="/v1")

StatusFilter = Annotated[str, Query(pattern="^(pending|sent|superseded|dead|all)$")]


class NewSubscription(BaseModel):
    """A webhook receiver to add."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=2000, description="Where to post (http:// or https://).")
    event_types: list[str] = Field(
        min_length=1, max_length=100, description="Event types to receive; '*' takes all."
    )


class Rotation(BaseModel):
    """How long the old secret keeps signing beside the new one."""

    model_config = ConfigDict(extra="forbid")
    overlap_hours: float = Field(default=24.0, ge=0, le=720)


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def _invalid(error: ValueError) -> ProblemError:
    return ProblemError(422, "invalid-subscription", "Invalid subscription", str(error))


@router.get(
    "/outbox", tags=["admin"], summary="List outbox messages", responses=_doc(401, 403, 422)
)
def outbox(
    request: Request,
    key: AdminKey,
    status: StatusFilter = "pending",
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Outbox messages of one status (``all`` for every status), oldest first."""
    wanted = None if status == "all" else status
    items = outbox_admin.entries(_hub(request).store, wanted, after=after, limit=limit)
    return {"items": items, "count": len(items)}


@router.post(
    "/outbox/{outbox_id}/replay",
    tags=["admin"],
    summary="Deliver an outbox message again",
    responses=_doc(401, 403, 404, 409),
)
def replay_outbox(outbox_id: int, request: Request, key: AdminKey) -> dict[str, Any]:
    """Make a dead, sent or superseded message pending again, under the same message id."""
    hub = _hub(request)
    try:
        return outbox_admin.replay(hub.store, outbox_id, hub.clock)
    except ValueError as error:
        raise ProblemError(
            409,
            "outbox-message-pending",
            "Message still pending",
            f"{error}: the worker delivers it on its own; replay it once it is dead.",
        ) from None


@router.get(
    "/processes/{process_id}/notifications",
    tags=["processes"],
    summary="Notification attempts of a process",
    responses=_doc(401, 403, 404),
)
def notifications(process_id: ProcessId, request: Request, key: ChannelKey) -> dict[str, Any]:
    """Every attempt to deliver the process's notifications (sent, deferred, superseded,
    failed), oldest first."""
    hub = _hub(request)
    if not hub.states([process_id]):
        raise NotFound(f"No process {process_id}.")
    items = outbox_admin.attempts_of(hub.store, process_id, notifications_only=True)
    return {"process_id": process_id, "items": items, "count": len(items)}


@router.get(
    "/subscriptions", tags=["admin"], summary="List subscriptions", responses=_doc(401, 403)
)
def list_subscriptions(request: Request, key: AdminKey) -> dict[str, Any]:
    """Every webhook subscription, oldest first; secrets are never shown again."""
    found = subscriptions.listing(_hub(request).store)
    items = [subscriptions.public(s) for s in found]
    return {"items": items, "count": len(items)}


@router.post(
    "/subscriptions",
    tags=["admin"],
    summary="Add a subscription",
    status_code=201,
    responses=_doc(400, 401, 403, 422),
)
def create_subscription(body: NewSubscription, request: Request, key: AdminKey) -> dict[str, Any]:
    """Subscribe a URL to event types; the answer carries the signing secret, shown once."""
    hub = _hub(request)
    try:
        created, secret = subscriptions.create(hub.store, body.url, body.event_types, hub.clock)
    except subscriptions.InvalidSubscription as error:
        raise _invalid(error) from None
    return {**subscriptions.public(created), "secret": secret}


@router.post(
    "/subscriptions/{subscription_id}/rotate",
    tags=["admin"],
    summary="Rotate a subscription's secret",
    responses=_doc(400, 401, 403, 404, 422),
)
def rotate_subscription(
    subscription_id: str, request: Request, key: AdminKey, body: Rotation | None = None
) -> dict[str, Any]:
    """A new signing secret (shown once); the old one signs too during the overlap."""
    hub = _hub(request)
    overlap = timedelta(hours=(body or Rotation()).overlap_hours)
    rotated, secret = subscriptions.rotate(hub.store, subscription_id, hub.clock, overlap)
    return {**subscriptions.public(rotated), "secret": secret}


@router.post(
    "/subscriptions/{subscription_id}/deactivate",
    tags=["admin"],
    summary="Stop a subscription",
    responses=_doc(401, 403, 404),
)
def deactivate_subscription(subscription_id: str, request: Request, key: AdminKey) -> Any:
    """Stop delivering to a subscription (kept for the record)."""
    return subscriptions.public(subscriptions.deactivate(_hub(request).store, subscription_id))
