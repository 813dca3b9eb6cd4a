"""The customer's controls as forms that work without JavaScript: the form (or, for an
irreversible control, a page stating the consequences), a check-your-answers step for
controls with inputs, then the action through the same hub call as the API, and a redirect
to the process page with a success banner. Every post carries the session's CSRF token.

An irreversible control asks for a one-time code first: its page offers to send one to the
contact on file, then takes the code beside the confirm button; only a right code acts
(``codes``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from relevo.domain import controls
from relevo.domain.definitions import Control
from relevo.domain.errors import ActionRefused, UnknownControl
from relevo.domain.formatting import zone
from relevo.domain.model import JSON, Action, ProcessState, iso
from relevo.services.access.codes import Check, NoContact, request_code
from relevo.services.access.limits import RateLimited
from relevo.services.processes import NotFound
from relevo.web.pages import codes, uploads
from relevo.web.pages.access import access_of, client_of, too_many
from relevo.web.pages.codes import CodeStep, code_field, code_step
from relevo.web.pages.forms import (
    Field,
    Submission,
    clean,
    fields_of,
    new_request_id,
    read_form,
)
from relevo.web.pages.render import (
    error_page,
    formatter,
    language,
    pages_of,
    redirect,
    render,
    session_of,
)
from relevo.web.pages.routes import own_process, process_formatter
from relevo.web.pages.session import CustomerSession

router = APIRouter(include_in_schema=False)
BASE = "/my/processes/{process_id}/controls/{control_id}"


@dataclass
class Target:
    """One control of one process of the signed-in customer, ready for a form."""

    session: CustomerSession
    state: ProcessState
    view: JSON
    row: JSON
    control: Control
    fields: list[Field]
    lang: str
    #: The one-time code step of an irreversible control the customer may use now.
    code: CodeStep | None = None

    @property
    def needs_check(self) -> bool:
        """Whether the answers are shown back before acting (inputs other than files and
        the one-time code)."""
        return any(row.type not in ("document", "code") for row in self.fields)


@router.get(BASE)
def control_form(request: Request, process_id: str, control_id: str) -> Response:
    """The form of one control, filled with what the query carries (from "change")."""
    found = _target(request, process_id, control_id)
    if isinstance(found, Response):
        return found
    for row in found.fields:
        value = request.query_params.get(row.name, "")
        row.value = value if len(value) <= 200 and value.isprintable() else ""
    return _form(request, found)


@router.post(BASE + "/check")
async def control_check(request: Request, process_id: str, control_id: str) -> Response:
    """Check the answers against the control's rules and show them back to confirm."""
    accepted = await _accepted(request, process_id, control_id)
    if isinstance(accepted, Response):
        return accepted
    found, submission = accepted
    return render(
        request,
        "pages/check.html",
        found.lang,
        **_context(request, found, submission.request_id),
        answers=[
            (row, _shown(row, found.lang, found.state.timezone))
            for row in found.fields
            if row.value and row.type != "code"
        ],
        code_value=submission.code,
    )


@router.post(BASE)
async def control_do(request: Request, process_id: str, control_id: str) -> Response:
    """Use the control; back to the process page with a banner, or the form with why not."""
    accepted = await _accepted(request, process_id, control_id)
    if isinstance(accepted, Response):
        return accepted
    found, submission = accepted
    if found.control.irreversible:
        refused = await run_in_threadpool(_check_code, request, found, submission.code)
        if refused is not None:
            return refused
    pages = pages_of(request)
    for name, content in submission.files.items():
        submission.params[name] = uploads.store(pages.upload_dir, process_id, content)
    action = Action(
        control_id,
        submission.params,
        actor=found.session.customer_id,
        channel="web",
        request_id=submission.request_id,
    )
    try:
        await run_in_threadpool(pages.hub.act, process_id, action, found.lang)
    except ActionRefused as refused:
        return _refused(request, found, refused)
    return redirect(request, f"/my/processes/{process_id}?lang={found.lang}&done={control_id}")


def _target(request: Request, process_id: str, control_id: str) -> Target | Response:
    """The control to show, or the error page for who or what is missing."""
    lang = language(request)
    session = session_of(request)
    if session is None:
        return error_page(request, lang, "signed_out", 401)
    try:
        state, view = own_process(request, session, process_id, lang)
        row = next((c for c in view["controls"] if c["id"] == control_id), None)
        if row is None:
            raise NotFound(control_id)
        hub = pages_of(request).hub
        compiled = hub.processes.compiled(state)
        control = controls.require(compiled, control_id)
    except (NotFound, UnknownControl):
        return error_page(request, lang, "not_found", 404)
    fields = fields_of(compiled, state, control, lang, hub.clock())
    step = None
    if control.irreversible and row["allowed"]:
        step = code_step(request, state, control_id, lang)
        if step.pending is not None:
            fields.append(code_field(lang))
    return Target(session, state, view, row, control, fields, lang, step)


async def _submitted(
    request: Request, process_id: str, control_id: str
) -> tuple[Target | Response, Submission | None]:
    """The target of a post and its cleaned form, once the CSRF token is checked."""
    form = await read_form(request)
    try:
        found = await run_in_threadpool(_target, request, process_id, control_id)
        if isinstance(found, Response):
            return found, None
        if form is None:
            return _form(request, found, status=400, problem="bad_form"), None
        if not pages_of(request).keys.csrf_ok(found.session, form.get("csrf")):
            return error_page(request, found.lang, "csrf", 403), None
        return found, await clean(form, found.fields, found.lang)
    finally:
        if form is not None:
            await form.close()


async def _accepted(
    request: Request, process_id: str, control_id: str
) -> tuple[Target, Submission] | Response:
    """The target and its submission if the domain would accept them as they stand; else
    the page that says what to change."""
    found, submission = await _submitted(request, process_id, control_id)
    if isinstance(found, Response):
        return found
    assert submission is not None
    submission.code = str(submission.params.pop(codes.FIELD, ""))
    if submission.errors:
        return _form(request, found, status=422)
    refusal = _validate(request, found, submission)
    return refusal if refusal is not None else (found, submission)


def _validate(request: Request, found: Target, submission: Submission) -> Response | None:
    """The form again with the domain's own objections (bounds, weekends, patterns, not
    allowed now), or ``None`` when the action would be accepted as it stands."""
    hub = pages_of(request).hub
    compiled = hub.processes.compiled(found.state)
    now = hub.clock()
    params = dict(submission.params)
    for name in submission.files:
        params[name] = "upload:pending"
    try:
        controls.refuse_unless_allowed(compiled, found.state, found.row["id"], "customer", now)
        controls.validate_params(compiled, found.state, found.control, params, now)
    except ActionRefused as refused:
        return _refused(request, found, refused)
    return None


def _refused(request: Request, found: Target, refused: ActionRefused) -> Response:
    """The form with the hub's reason in plain words, and each field's problem beside it."""
    by_field = {problem.field: problem.message.get(found.lang) for problem in refused.problems}
    for row in found.fields:
        row.error = by_field.get(row.name, row.error)
    reason = None if by_field else refused.reason.get(found.lang)
    instead = refused.instead.get(found.lang) if refused.instead and not by_field else None
    return _form(request, found, status=422 if by_field else 409, reason=reason, instead=instead)


def _form(request: Request, found: Target, *, status: int = 200, **extra: Any) -> Response:
    context = {"reason": None, "instead": None, "problem": None, **extra}
    return render(
        request, "pages/control.html", found.lang, status, **_context(request, found), **context
    )


def _context(request: Request, found: Target, request_id: str | None = None) -> dict[str, Any]:
    pages = pages_of(request)
    return {
        "session": found.session,
        "view": found.view,
        "row": found.row,
        "fields": found.fields,
        "needs_check": found.needs_check,
        "has_file": any(row.type == "document" for row in found.fields),
        "csrf": pages.keys.csrf_token(found.session),
        "request_id": request_id or new_request_id(),
        "fmt": process_formatter(request, found.state, found.lang),
        "code": found.code,
    }


def _shown(row: Field, lang: str, timezone: str) -> str:
    """An answer as the customer reads it back; a date and time without a zone is the
    process's local time, as the domain reads it."""
    if row.type == "choice":
        return row.choices.get(row.value, row.value)
    if row.type == "date":
        return formatter(lang, "UTC")(row.value + "T12:00:00+00:00", "date")
    if row.type == "datetime":
        moment = datetime.fromisoformat(row.value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone(timezone))
        return formatter(lang, timezone)(iso(moment))
    return row.value


@router.post(BASE + "/code")
async def control_code(request: Request, process_id: str, control_id: str) -> Response:
    """Send a one-time code for an irreversible control to the contact on file, then
    back to its page, which now takes the code."""
    found, _ = await _submitted(request, process_id, control_id)
    if isinstance(found, Response):
        return found
    if found.code is None:  # not irreversible, or not allowed now: the page says why
        return _form(request, found, status=409)
    pages = pages_of(request)
    try:
        await run_in_threadpool(
            request_code,
            access_of(request),
            pages.keys.link_secret,
            found.state,
            control_id,
            client=client_of(request),
            lang=found.lang,
            now=pages.clock(),
        )
    except NoContact:
        return _form(request, found, status=409)
    except RateLimited as limited:
        return too_many(request, found.lang, "too_many_codes_text", limited.retry_at)
    return redirect(request, f"/my/processes/{process_id}/controls/{control_id}?lang={found.lang}")


def _check_code(request: Request, found: Target, typed: str) -> Response | None:
    """``None`` when ``typed`` is the right code (now used up); else the page again with
    what was wrong — beside the field, or above the form with the offer of a new code."""
    result = codes.checked(request, found.state, found.row["id"], typed)
    if result.outcome is Check.OK:
        return None
    beside, problem = codes.refusal(result, found.lang)
    again = _target(request, found.state.id, found.row["id"])
    if isinstance(again, Response):
        return again
    for row in again.fields:
        if row.name == codes.FIELD:
            row.error = beside
    return _form(request, again, status=422, problem=problem)
