"""A notification rendered for one channel and language.

The words come from the definition (the notification's ``text`` and ``subject``, their
placeholders filled like the status view's); the e-mail layout comes from the Jinja2
templates shipped in ``relevo/templates/email`` (``<template>.html`` / ``.txt`` when a
notification has its own, else ``notification.html`` / ``.txt``), always with a plain-text
part and a footer naming the process reference and the link to the customer's page.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape

from relevo.domain.compiled import Compiled
from relevo.domain.model import ProcessState
from relevo.domain.rendering import render
from relevo.services.notifications.sms_text import SmsText, measure


@dataclass(frozen=True, slots=True)
class EmailLabels:
    """The fixed words of the e-mail layout in one language. Attributes rather than a
    dict: a template's ``labels.button`` on a dict makes Jinja raise and catch an
    AttributeError before reading the item, a tenth of an e-mail's rendering."""

    greeting: str
    follow: str
    button: str
    reference: str
    expiry: str


#: The fixed words of the e-mail layout, per language (Spanish for any other language).
LABELS: dict[str, EmailLabels] = {
    "es": EmailLabels(
        greeting="Hola:",
        follow="Sigue tu trámite y gestiónalo aquí",
        button="Ver mi trámite",
        reference="Referencia",
        expiry="Este enlace es personal: no lo compartas.",
    ),
    "en": EmailLabels(
        greeting="Hello,",
        follow="Follow and manage your request here",
        button="See my request",
        reference="Reference",
        expiry="This link is personal: do not share it.",
    ),
}


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """An e-mail's subject, plain-text part and HTML part."""

    subject: str
    text: str
    html: str


class UnknownTemplate(LookupError):
    """The process's definition declares no notification with that template."""


def body_text(c: Compiled, state: ProcessState, template: str, lang: str) -> str:
    """The notification's sentence for ``state`` in ``lang``; raises UnknownTemplate."""
    notification = c.notification_by_template.get(template)
    if notification is None:
        raise UnknownTemplate(f"{c.definition.kind} declares no notification {template!r}")
    return render(notification.text, c, state, lang)


def render_email(
    c: Compiled, state: ProcessState, template: str, lang: str, link: str, body: str | None = None
) -> RenderedEmail:
    """The e-mail for ``template`` in ``lang``: the declared subject (or the process's
    title), the sentence (``body``, when the caller has it already), and a footer with the
    reference and ``link``."""
    body = body_text(c, state, template, lang) if body is None else body
    notification = c.notification_by_template[template]
    if notification.subject is not None:
        subject = render(notification.subject, c, state, lang)
    else:
        subject = c.definition.title.get(lang)
    context = {
        "lang": lang,
        "labels": LABELS["en" if lang == "en" else "es"],
        "subject": subject,
        "body": body,
        "link": link,
        "reference": state.id,
        "title": c.definition.title.get(lang),
    }
    html = _layout(template, "html").render(context)
    text = _layout(template, "txt").render(context)
    return RenderedEmail(subject, text, html)


def render_sms(
    c: Compiled, state: ProcessState, template: str, lang: str, link: str, body: str | None = None
) -> SmsText:
    """The SMS for ``template`` in ``lang``: the sentence (``body``, when the caller has it
    already) then ``link``, measured."""
    body = body_text(c, state, template, lang) if body is None else body
    return measure(f"{body} {link}")


@cache
def _layout(template: str, part: str) -> Template:
    """The layout of ``template``'s ``part`` (``html`` or ``txt``): its own, else the
    shared one. Chosen once: the templates ship with the package and do not change."""
    return environment().select_template([f"{template}.{part}", f"notification.{part}"])


@cache
def environment() -> Environment:
    """The Jinja2 environment of the e-mail templates (``relevo/templates/email``)."""
    return Environment(
        loader=PackageLoader("relevo", "templates/email"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,
    )
