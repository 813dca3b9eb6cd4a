"""Asking for a new link, and the pages of links that cannot be used (expired, used up,
altered) and of requests over their limit.

The answer to "send me a new link" is the same page whether or not the reference exists
(``relevo.services.access.links``): the link goes to the contact on file only. The form is
shown to people who are not signed in, so its CSRF token comes from a cookie of its own.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from relevo.services.access import links
from relevo.services.access.limits import RateLimited
from relevo.services.access.ports import AccessStore
from relevo.services.notifications.links import InvalidLink, verify_token
from relevo.web.pages.forms import problem_text, read_form
from relevo.web.pages.render import formatter, language, pages_of, render
from relevo.web.pages.session import FORM_COOKIE
from relevo.web.pages.texts import texts

router = APIRouter(include_in_schema=False)

NEW_LINK = "/p/new"
#: Where each kind of unusable link is explained, and its status.
_LINK_PAGES = {"expired": ("link_expired", 410), "used": ("link_used", 410)}


def access_of(request: Request) -> AccessStore:
    """The access records of the app serving ``request``."""
    store: AccessStore = request.app.state.access_store
    return store


def client_of(request: Request) -> str:
    """The client's address as the server sees it (behind a proxy, run the server with
    its forwarded-address option so this is the customer's, not the proxy's)."""
    return request.client.host if request.client else "unknown"


def link_problem(request: Request, lang: str, invalid: InvalidLink) -> Response:
    """The page of a link that cannot be used, offering a new one: for an expired or
    used-up link, one click (the link names its process); for an altered one, by the
    reference."""
    kind, status = _LINK_PAGES.get(invalid.reason, ("link_invalid", 400))
    return _form_page(request, lang, kind, status, token=bool(invalid.claims))


@router.get(NEW_LINK)
def new_link_form(request: Request) -> Response:
    """The form that asks for a new link by the process reference."""
    return _form_page(request, language(request), None, 200)


@router.post(NEW_LINK)
async def new_link(request: Request) -> Response:
    """Send a new link to the contact on file, if we know the reference; the same answer
    either way, or a page saying when to try again after too many requests."""
    lang = language(request)
    form = await read_form(request)
    if form is None:
        return _form_page(request, lang, None, 400, error=texts(lang)["bad_form"])
    try:
        if not pages_of(request).keys.form_csrf_ok(
            request.cookies.get(FORM_COOKIE), form.get("csrf")
        ):
            return _form_page(request, lang, "csrf", 403)
        reference, error = _reference(request, form.get("token"), form.get("reference"), lang)
    finally:
        await form.close()
    if error is not None:
        return _form_page(request, lang, None, 422, error=error, reference=reference)
    hub = pages_of(request).hub
    try:
        await run_in_threadpool(
            links.request_link,
            access_of(request),
            hub.states,
            reference,
            client_of(request),
            pages_of(request).clock(),
        )
    except RateLimited as limited:
        return too_many(request, lang, "too_many_links_text", limited.retry_at)
    return render(request, "pages/new_link_sent.html", lang)


def too_many(request: Request, lang: str, text_key: str, retry_at: datetime) -> HTMLResponse:
    """The 429 page: too many requests, and from when to try again."""
    now = pages_of(request).clock()
    when = formatter(lang, "Europe/Madrid")(retry_at.isoformat(), "cutoff")
    response = render(
        request,
        "pages/error.html",
        lang,
        429,
        title=texts(lang)["too_many_title"],
        text=texts(lang)[text_key].replace("{when}", when),
    )
    response.headers["Retry-After"] = str(max(1, int((retry_at - now).total_seconds())))
    return response


def _reference(request: Request, token: object, typed: object, lang: str) -> tuple[str, str | None]:
    """The process reference a new link is asked for — the one a (genuine, possibly
    expired or used-up) link names, else the one typed — and the typed one's problem."""
    if isinstance(token, str) and 0 < len(token) <= 2048:
        now = pages_of(request).clock()
        try:
            return verify_token(pages_of(request).keys.link_secret, token, now).process_id, None
        except InvalidLink as invalid:
            if invalid.claims is not None:
                return invalid.claims.process_id, None
    words = texts(lang)
    if typed is not None and not isinstance(typed, str):
        return "", words["bad_form"]
    text = (typed or "").strip()
    if not text:
        return "", words["required"]
    if len(text) > links.MAX_REFERENCE:
        return text[: links.MAX_REFERENCE], problem_text(words, "too_long")
    if not text.isprintable():
        return "", words["bad_characters"]
    return text, None


def _form_page(
    request: Request,
    lang: str,
    kind: str | None,
    status: int,
    *,
    token: bool = False,
    error: str | None = None,
    reference: str = "",
) -> Response:
    """The new-link form, under the explanation of ``kind`` (``None``: none), carrying the
    link's own token when it names its process."""
    nonce = request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(24)
    words = texts(lang)
    response = render(
        request,
        "pages/new_link.html",
        lang,
        status,
        title=words[kind + "_title"] if kind else words["new_link_title"],
        text=words[kind + "_text"] if kind else words["new_link_intro"],
        token=request.path_params.get("token", "") if token else "",
        csrf=pages_of(request).keys.form_csrf_token(nonce),
        error=error,
        reference=reference,
    )
    response.set_cookie(
        FORM_COOKIE,
        nonce,
        path="/p",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response
