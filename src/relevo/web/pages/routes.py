"""The customer's pages: the link that signs them in, the list of their processes and the
page of one process ("where is my switch")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from relevo.domain.model import JSON, ProcessState
from relevo.services.access import links
from relevo.services.notifications.links import InvalidLink, verify_token
from relevo.services.processes import NotFound
from relevo.web.pages.access import access_of, link_problem
from relevo.web.pages.parts import date_tagger, page_context
from relevo.web.pages.render import (
    error_page,
    formatter,
    language,
    pages_of,
    redirect,
    render,
    session_of,
)
from relevo.web.pages.session import COOKIE, SESSION_LIFETIME, CustomerSession
from relevo.web.pages.texts import LANGUAGES

router = APIRouter(include_in_schema=False)

#: The longest process id looked up; anything longer cannot exist.
MAX_ID = 200


@router.get("/p/{token}")
def open_link(request: Request, token: str) -> Response:
    """Exchange a link's token for a session cookie and send the customer to the page of
    the process it names, so the token leaves the address bar and the history. A link is
    used a bounded number of times (``relevo.services.access.links``); a browser already
    signed in as the link's customer goes straight to the page without using it up. A
    language the link asks for (``?lang=en``) goes on to the page."""
    pages = pages_of(request)
    lang = language(request)
    now = pages.clock()
    token = token[:2048]
    chosen = request.query_params.get("lang")
    target = "/my/processes/{}" + (f"?lang={chosen}" if chosen in LANGUAGES else "")
    try:
        claims = verify_token(pages.keys.link_secret, token, now)
        signed_in = session_of(request)
        if signed_in is not None and signed_in.customer_id == claims.customer_id:
            return redirect(request, target.format(claims.process_id))
        links.exchange(access_of(request), pages.keys.link_secret, token, now)
    except InvalidLink as invalid:
        return link_problem(request, lang, invalid)
    session = pages.keys.open(claims.customer_id, now)
    response = redirect(request, target.format(claims.process_id))
    response.set_cookie(
        COOKIE,
        session.cookie,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/my")
def my_processes(request: Request) -> Response:
    """Every process of the signed-in customer, active ones first."""
    lang = language(request)
    session = session_of(request)
    if session is None:
        return error_page(request, lang, "signed_out", 401)
    hub = pages_of(request).hub
    found = hub.find(customer_id=session.customer_id, limit=100)
    found.sort(key=lambda row: row["status"] != "active")
    views = [hub.view(row["id"], lang) for row in found]
    return render(request, "pages/list.html", lang, views=views, session=session)


@router.get("/my/processes/{process_id}")
def process_page(request: Request, process_id: str) -> Response:
    """The page of one process of the signed-in customer; someone else's process reads
    exactly like one that does not exist."""
    lang = language(request)
    session = session_of(request)
    if session is None:
        return error_page(request, lang, "signed_out", 401)
    try:
        state, view = own_process(request, session, process_id, lang)
    except NotFound:
        return error_page(request, lang, "not_found", 404)
    done = request.query_params.get("done")
    controls = {row["id"]: row for row in view["controls"]}
    banner = controls[done]["title"] if done in controls else None
    return render(
        request,
        "pages/process.html",
        lang,
        session=session,
        banner=banner,
        fmt=process_formatter(request, state, lang),
        **process_parts(request, state, view, lang),
    )


def own_process(
    request: Request, session: CustomerSession, process_id: str, lang: str
) -> tuple[ProcessState, JSON]:
    """The state and customer view of ``process_id`` if it belongs to the session's
    customer; raises NotFound otherwise (whether it exists or not)."""
    if len(process_id) > MAX_ID or "\x00" in process_id:
        raise NotFound(process_id)
    processes = pages_of(request).hub.processes
    state = processes.get(process_id)
    if state.customer_id != session.customer_id:
        raise NotFound(process_id)
    return state, processes.view_of(state, lang)


def process_parts(request: Request, state: ProcessState, view: JSON, lang: str) -> dict[str, Any]:
    """The context of ``pages/process_parts.html`` for ``state`` and its ``view``, in
    ``lang`` (``relevo.web.pages.parts``)."""
    compiled = pages_of(request).hub.processes.compiled(state)
    return {**page_context(compiled, view), "date_kind": date_tagger(lang)}


def process_formatter(request: Request, state: ProcessState, lang: str) -> Callable[..., str]:
    """The page's ``fmt`` for ``state``: moments in the customer's zone, and the dates given
    as days written as days (read in the zone of the process's calendar)."""
    calendar = pages_of(request).hub.processes.compiled(state).calendar
    return formatter(lang, state.timezone, calendar.timezone)
