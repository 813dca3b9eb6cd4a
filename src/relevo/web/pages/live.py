"""Live updates of a process page by polite polling with conditional requests.

``static/page/live.js`` asks ``/my/processes/{id}/live`` every 20 seconds or so while the
page is visible, sending back the ETag it last got. The answer is ``304 Not Modified`` (no
body) while nothing the customer sees has changed, else the changing parts of the page
(``pages/process_parts.html``) with a new ETag and a short sentence to announce.

Why polling rather than server-sent events: ``relevo serve --workers N`` runs several
processes and an event may be ingested by any of them (or by ``relevo ingest`` elsewhere),
so a stream would need a cross-process signal that SQLite does not have; every open page
would hold a connection (and a worker's slot) for as long as it stays open; and proxies
buffer or cut long-lived responses. A 304 costs one short request that reads one process,
works through any proxy, and any worker can answer it.

The ETag is a digest of the customer's status view in the page's language, not only the
process version: a cut-off passing or a date becoming late changes the page without a new
event. Only the signed-in customer's own process answers; any other id reads "not found".
"""

from __future__ import annotations

import hashlib
import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from relevo.domain.model import JSON, iso
from relevo.services.processes import NotFound
from relevo.web.pages.render import error_page, language, render, secure, session_of
from relevo.web.pages.routes import own_process, process_formatter, process_parts
from relevo.web.pages.texts import texts

router = APIRouter(include_in_schema=False)

#: Browsers must ask again every time (the answer is personal and changes), but may keep it
#: to send ``If-None-Match``; ``no-store`` would forbid that.
CACHE_CONTROL = "private, no-cache"


@router.get("/my/processes/{process_id}/live")
def live_parts(request: Request, process_id: str) -> Response:
    """The changing parts of the page of ``process_id``, or 304 when the ETag the browser
    sends still matches what the customer would see."""
    lang = language(request)
    session = session_of(request)
    if session is None:
        return _uncached(error_page(request, lang, "signed_out", 401))
    try:
        state, view = own_process(request, session, process_id, lang)
    except NotFound:
        return _uncached(error_page(request, lang, "not_found", 404))
    tag = etag_of(view)
    if tag in _tags(request.headers.get("if-none-match")):
        return _cached(secure(request, Response(status_code=304)), tag)
    fmt = process_formatter(request, state, lang)
    now = fmt(iso(request.app.state.pages.hub.clock()), "time")
    announce = (
        texts(lang)["live_updated"].replace("{time}", now).replace("{headline}", view["headline"])
    )
    response = render(
        request,
        "pages/process_live.html",
        lang,
        fmt=fmt,
        announce=announce,
        **process_parts(request, state, view, lang),
    )
    return _cached(response, tag)


def etag_of(view: JSON) -> str:
    """A strong ETag naming everything the customer's view shows (same view, same tag)."""
    body = json.dumps(view, sort_keys=True, separators=(",", ":"), default=str)
    return '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'


def _tags(header: str | None) -> set[str]:
    """The ETags of an ``If-None-Match`` header (weak ones compare by their value)."""
    if not header:
        return set()
    return {part.strip().removeprefix("W/") for part in header[:1000].split(",")}


def _cached(response: Response, tag: str) -> Response:
    response.headers["ETag"] = tag
    return _uncached(response, CACHE_CONTROL)


def _uncached(response: Response, policy: str = "no-store") -> Response:
    response.headers["Cache-Control"] = policy
    response.headers["Vary"] = "Cookie, Accept-Language"
    return response
