"""Rendering the customer's pages: one Jinja environment, the security headers every page
carries, and the HTML error pages (the API answers problem+json; people get pages)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.dates import get_timezone_name
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from relevo.domain.formatting import day_of, moment_text, zone
from relevo.domain.model import parse_iso
from relevo.domain.operator_terms import OperatorContact
from relevo.services.hub import Hub
from relevo.web.pages.session import COOKIE, CustomerSession, SessionKeys
from relevo.web.pages.texts import pick_language, texts

TEMPLATES = Path(__file__).parent.parent / "templates"
LANG_COOKIE = "relevo_lang"

#: No inline script or style, nothing from elsewhere, no framing; scripts (live.js) and
#: the requests they make only to this site.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


#: The names a plain dict answers as attributes (``items``, ``get``, …).
_DICT_ATTRIBUTES = frozenset(dir(dict))


class _PageEnvironment(Environment):
    """Jinja with the same lookup rules, faster on the views' plain dicts.

    ``view.stages`` first tries ``getattr(view, "stages")``, which on a dict raises (and
    catches) an AttributeError before the item is read: about a hundred times per page,
    a fifth of rendering. A name that is not an attribute of ``dict`` goes straight to
    the item here, which is what Jinja ends up doing anyway.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``obj.attribute`` in a template, as Jinja defines it."""
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


@dataclass
class Pages:
    """What the page routes share: the hub, the session keys, where uploads go, the clock
    of sessions, links and one-time codes (the hub's unless told otherwise), and how
    customers reach the operator (the foot of every page)."""

    hub: Hub
    keys: SessionKeys
    upload_dir: Path
    env: Environment
    clock: Callable[[], datetime]
    operator: OperatorContact


def build_pages(
    hub: Hub, link_secret: str, upload_dir: Path, clock: Callable[[], datetime] | None = None
) -> Pages:
    """The shared state of the customer's pages (raises ValueError without a secret);
    ``clock`` times sessions, links and codes (default: the hub's)."""
    env = _PageEnvironment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # The templates ship with the package: no file check on every page.
        auto_reload=False,
    )
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)  # compiled once, at start-up
    contact = hub.catalog.terms.contact
    return Pages(hub, SessionKeys(link_secret), upload_dir, env, clock or hub.clock, contact)


def pages_of(request: Request) -> Pages:
    """The pages' shared state of the app serving ``request``."""
    pages: Pages = request.app.state.pages
    return pages


def language(request: Request) -> str:
    """The language ``request`` asks for (see ``texts.pick_language``)."""
    return pick_language(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
    )


def session_of(request: Request) -> CustomerSession | None:
    """The customer signed in on ``request``, if any."""
    pages = pages_of(request)
    return pages.keys.read(request.cookies.get(COOKIE), pages.clock())


@lru_cache(maxsize=256)
def _zone_name(timezone: str, lang: str) -> str:
    """The name people read for ``timezone`` in ``lang`` ("hora de Europa central"): the
    same for every moment, so Babel works it out once per zone and language."""
    return get_timezone_name(zone(timezone), locale=lang)


def formatter(lang: str, timezone: str, day_zone: str | None = None) -> Callable[..., str]:
    """``fmt(iso, style)``: a stored moment written for people in ``lang`` and ``timezone``;
    the style ``cutoff`` is a date and time that names its zone. With ``day_zone`` (the
    process calendar's zone) a process date given as a day is written as its date alone,
    as the status view writes it (``relevo.domain.formatting.moment_text``)."""

    def fmt(value: str | None, style: str = "datetime") -> str:
        if not value:
            return ""
        moment = parse_iso(value)
        if style == "cutoff":
            if day_zone is not None and day_of(moment, day_zone) is not None:
                return moment_text(moment, lang, "date", timezone, day_zone)
            zone_name = _zone_name(timezone, "en" if lang == "en" else "es")
            return f"{moment_text(moment, lang, 'datetime', timezone)} ({zone_name})"
        return moment_text(moment, lang, style, timezone, day_zone)

    return fmt


def render(
    request: Request, template: str, lang: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """``template`` rendered in ``lang`` with ``context``, with the security headers."""
    pages = pages_of(request)
    context.setdefault("fmt", formatter(lang, "Europe/Madrid"))
    context.setdefault("session", None)
    context.setdefault("banner", None)
    context.setdefault("operator", pages.operator)
    html = pages.env.get_template(template).render(
        t=texts(lang),
        lang=lang,
        other_lang="en" if lang == "es" else "es",
        path=_page_path(request),
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    secure(request, response, lang)
    return response


def _page_path(request: Request) -> str:
    """Where the language switch leads: this page, or for the answer to a form the page
    of that form (a link can only ask for pages)."""
    path = request.url.path
    if request.method == "GET":
        return path
    return path.removesuffix("/check")


def secure(request: Request, response: Response, lang: str | None = None) -> Response:
    """Add the security headers, and remember a language chosen with ``?lang=``."""
    response.headers.update(HEADERS)
    if lang is not None and request.query_params.get("lang") == lang:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=365 * 86400,
            samesite="lax",
            httponly=True,
            secure=request.url.scheme == "https",
        )
    return response


def redirect(request: Request, url: str) -> Response:
    """A 303 to ``url`` (after a form, so reloading never posts twice)."""
    return secure(request, RedirectResponse(url, status_code=303))


def error_page(request: Request, lang: str, kind: str, status: int) -> HTMLResponse:
    """A page that says what went wrong (``kind``: not_found, signed_out, link_expired,
    link_invalid, csrf) and what to do."""
    return render(
        request,
        "pages/error.html",
        lang,
        status,
        title=texts(lang)[kind + "_title"],
        text=texts(lang)[kind + "_text"],
    )
