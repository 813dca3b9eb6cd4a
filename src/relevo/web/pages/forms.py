"""Reading a control's form: every field checked for what a browser (or anyone) may send —
over-long text, control characters, dates that are not dates, files that are not PDF, JPEG
or PNG — before the hub is asked, so odd input gets its message next to the field."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeGuard

from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from relevo.domain import controls
from relevo.domain.compiled import Compiled
from relevo.domain.definitions import Control
from relevo.domain.model import ProcessState
from relevo.web.pages.texts import texts
from relevo.web.pages.uploads import MAX_UPLOAD_BYTES, UploadRefused, sniff

#: The longest text a field takes.
MAX_TEXT = 200
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class Field:
    """One input of a control's form, as the page shows it."""

    name: str
    type: str
    title: str
    required: bool
    choices: dict[str, str]
    value: str = ""
    error: str | None = None
    min: date | None = None
    max: date | None = None


@dataclass
class Submission:
    """What a form sent, cleaned: the control's params, the files, and field errors."""

    params: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    #: The form's one-time id: sending the same form twice acts once.
    request_id: str | None = None
    #: The one-time code typed for an irreversible control ("" when none).
    code: str = ""


def fields_of(
    c: Compiled, state: ProcessState, control: Control, lang: str, now: datetime
) -> list[Field]:
    """The form fields of ``control``, dates bounded to the days it accepts now."""
    rows: list[Field] = []
    for name, declared in control.params.items():
        param = controls.param_for(c, state, declared, now)
        low, high = (None, None)
        if param.type in ("date", "datetime"):
            low, high = controls.date_bounds(c, state, param, now)
        rows.append(
            Field(
                name=name,
                type=param.type,
                title=param.title.get(lang),
                required=param.required,
                choices={key: label.get(lang) for key, label in param.choices.items()},
                min=low,
                max=high,
            )
        )
    return rows


async def read_form(request: Request) -> FormData | None:
    """The posted form, or ``None`` when it cannot be read (malformed, too many parts)."""
    try:
        return await request.form(max_files=2, max_fields=30, max_part_size=64 * 1024)
    except (HTTPException, ValueError, UnicodeDecodeError):
        return None


async def clean(form: FormData, fields: list[Field], lang: str) -> Submission:
    """The values of ``fields`` in ``form``; each field keeps what was typed (to show it
    again) and gets its error, if any."""
    words = texts(lang)
    request = form.get("request")
    result = Submission(request_id=request if _is_request_id(request) else None)
    for row in fields:
        raw = form.get(row.name)
        if row.type == "document":
            await _clean_file(raw, row, result, words)
            continue
        if row.type == "bool":
            result.params[row.name] = raw == "on"
            continue
        problem, value = _clean_text(raw, row, words)
        row.value = value if problem != "bad_characters" else ""
        if problem:
            result.errors[row.name] = row.error = problem_text(words, problem)
        elif value:
            result.params[row.name] = value
    return result


def problem_text(words: Any, code: str) -> str:
    """The message of a field problem ``code`` in the page's words."""
    return str(words[code]).replace("{max}", str(MAX_TEXT))


def _clean_text(raw: object, row: Field, words: Any) -> tuple[str | None, str]:
    if raw is not None and not isinstance(raw, str):
        return "bad_form", ""
    text = (raw or "").strip()
    if len(text) > MAX_TEXT:
        return "too_long", text[:MAX_TEXT]
    if _CONTROL_CHARACTERS.search(text):
        return "bad_characters", ""
    if not text:
        return ("required" if row.required else None), ""
    if row.type == "date" and not _is_day(text):
        return "bad_date", text
    return None, text


def new_request_id() -> str:
    """A fresh one-time id for a form."""
    return secrets.token_urlsafe(16)


def _is_request_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and _REQUEST_ID.fullmatch(value) is not None


def _is_day(text: str) -> bool:
    if not _DAY.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


async def _clean_file(raw: object, row: Field, result: Submission, words: Any) -> None:
    if not isinstance(raw, UploadFile) or not raw.filename:
        if row.required or (isinstance(raw, str) and raw):
            result.errors[row.name] = row.error = words["file_empty"]
        return
    content = await raw.read(MAX_UPLOAD_BYTES + 1)
    try:
        sniff(content)
    except UploadRefused as refused:
        result.errors[row.name] = row.error = words[refused.code]
        return
    result.files[row.name] = content
