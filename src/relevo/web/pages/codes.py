"""The one-time code on the page of an irreversible control (cancel, withdraw): whether one
can be sent and where to, the field to type it in once it was, and what a typed code
turned out to be, in the customer's words (``relevo.services.access.codes``)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from relevo.domain.model import ProcessState
from relevo.services.access import codes
from relevo.services.access.messages import reach
from relevo.services.access.ports import CodeRecord
from relevo.services.notifications.policy import mask
from relevo.web.pages.access import access_of
from relevo.web.pages.forms import Field
from relevo.web.pages.render import formatter, pages_of
from relevo.web.pages.texts import texts

#: The name of the code's input.
FIELD = "code"
#: Each failed check: the message beside the field (True) or above the form (False).
_BESIDE_FIELD = {codes.Check.WRONG: True, codes.Check.MALFORMED: True}


@dataclass(frozen=True, slots=True)
class CodeStep:
    """What the page of an irreversible control says about its code: where a code goes
    (``None``: no contact on file), and the code sent, while it can be typed."""

    where: str | None
    pending: CodeRecord | None
    sent: str | None


def code_step(request: Request, state: ProcessState, control_id: str, lang: str) -> CodeStep:
    """The code step of ``control_id`` on ``state``'s page, now."""
    words = texts(lang)
    contact = reach(state.attributes)
    if contact is None:
        return CodeStep(None, None, None)
    channel, address = contact
    where = words[f"code_to_{channel}"].replace("{to}", mask(address))
    now = pages_of(request).clock()
    pending = codes.pending_code(access_of(request), state, control_id, now)
    if pending is None:
        return CodeStep(words["code_intro"].replace("{where}", where), None, None)
    sent_to = words[f"code_to_{pending.channel}"].replace("{to}", mask(address))
    until = formatter(lang, state.timezone)(pending.expires_at, "cutoff")
    sent = words["code_sent"].replace("{where}", sent_to).replace("{until}", until)
    return CodeStep(where, pending, sent)


def code_field(lang: str) -> Field:
    """The input the code is typed or pasted in."""
    return Field(
        name=FIELD, type="code", title=texts(lang)["code_label"], required=True, choices={}
    )


def checked(request: Request, state: ProcessState, control_id: str, typed: str) -> codes.Checked:
    """What ``typed`` is for the newest code of ``control_id`` (a right one is used up)."""
    secret = pages_of(request).keys.link_secret
    now = pages_of(request).clock()
    return codes.check_code(access_of(request), secret, state, control_id, typed, now)


def refusal(result: codes.Checked, lang: str) -> tuple[str | None, str | None]:
    """``(message beside the field, message key above the form)`` for a failed check."""
    words = texts(lang)
    key = f"code_{result.outcome.value}"
    if _BESIDE_FIELD.get(result.outcome):
        return words[key].replace("{left}", str(result.tries_left)), None
    return None, key
