"""The parts of the customer's pages on their own: language choice, sessions, file types."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from relevo.web.pages.session import SessionKeys
from relevo.web.pages.texts import pick_language
from relevo.web.pages.uploads import MAX_UPLOAD_BYTES, UploadRefused, sniff, store

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "expected"),
    [
        (None, None, None, "es"),
        ("en", None, "es", "en"),
        ("fr", "en", None, "en"),
        (None, None, "fr-FR, en;q=0.5, es;q=0.4", "en"),
        (None, None, "en;q=0.2, es-ES;q=0.9", "es"),
        (None, None, "en;q=abc, de", "es"),
        (None, None, "," * 10_000, "es"),
    ],
)
def test_the_language_comes_from_the_query_the_cookie_then_the_browser(
    query: str | None, cookie: str | None, accept: str | None, expected: str
) -> None:
    assert pick_language(query, cookie, accept) == expected


def test_a_session_is_read_back_until_it_expires_and_never_when_altered() -> None:
    keys = SessionKeys("secret")
    session = keys.open("cust-1", NOW)
    assert keys.read(session.cookie, NOW + timedelta(hours=11)) == session
    assert keys.read(session.cookie, NOW + timedelta(hours=12)) is None
    body, signature = session.cookie.split(".")
    forged = keys.open("cust-2", NOW).cookie.split(".")[0] + "." + signature
    assert keys.read(forged, NOW) is None
    assert SessionKeys("other secret").read(session.cookie, NOW) is None
    for odd in ("", ".", "a.b", "é.ü", body, "x" * 5000):
        assert keys.read(odd, NOW) is None
    assert keys.csrf_ok(session, keys.csrf_token(session))
    assert not keys.csrf_ok(keys.open("cust-1", NOW + timedelta(seconds=1)), "0" * 64)
    with pytest.raises(ValueError, match="RELEVO_LINK_SECRET"):
        SessionKeys("")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"%PDF-1.4 ...", "pdf"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "png"),
    ],
)
def test_documents_are_recognised_by_their_content(content: bytes, expected: str) -> None:
    assert sniff(content) == expected


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "file_empty"),
        (b"GIF89a", "bad_file_type"),
        (b"<html>%PDF-", "bad_file_type"),
        (b"%PDF-" + b"0" * MAX_UPLOAD_BYTES, "file_too_big"),
    ],
)
def test_other_files_are_refused(content: bytes, code: str) -> None:
    with pytest.raises(UploadRefused) as refused:
        sniff(content)
    assert refused.value.code == code


def test_a_stored_document_is_named_by_its_content_inside_its_process_folder(
    tmp_path: Path,
) -> None:
    first = store(tmp_path, "prc_../../etc", b"%PDF-1.4 a")
    again = store(tmp_path, "prc_../../etc", b"%PDF-1.4 a")
    assert first == again and first.startswith("upload:") and first.endswith(".pdf")
    files = list(tmp_path.rglob("*.pdf"))
    assert len(files) == 1
    assert files[0].parent.parent == tmp_path
