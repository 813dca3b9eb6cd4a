"""The customer's own pages: signed links exchanged for a session, the list of their
processes, one page per process and its controls as forms (see ``install``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI

from relevo.services.access.ports import AccessStore
from relevo.services.hub import Hub
from relevo.web.pages import access, actions, live, routes
from relevo.web.pages.render import build_pages
from relevo.web.pages.uploads import MAX_UPLOAD_BYTES

__all__ = ["MAX_UPLOAD_BYTES", "PREFIX", "install"]

#: Where the customer's process pages and their forms live.
PREFIX = "/my/"


def install(
    app: FastAPI,
    hub: Hub,
    link_secret: str,
    upload_dir: Path,
    store: AccessStore,
    clock: Callable[[], datetime] | None = None,
) -> None:
    """Serve the customer's pages on ``app``: links signed with ``link_secret`` open them;
    uploaded documents are kept under ``upload_dir``; link uses, one-time codes and rate
    limits are kept in ``store``, and timed by ``clock`` (default: the hub's)."""
    app.state.pages = build_pages(hub, link_secret, upload_dir, clock)
    app.state.access_store = store
    app.include_router(access.router)
    app.include_router(routes.router)
    app.include_router(actions.router)
    app.include_router(live.router)
