"""Documents customers upload: the type is read from the content, never from the name, and
the file is kept under the upload folder by its content hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

#: The largest document accepted.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024

#: The file types accepted, by the bytes they start with.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "pdf"),
    (b"\xff\xd8\xff", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
)


class UploadRefused(ValueError):
    """A file that is empty, too big, or not a PDF, JPEG or PNG; ``code`` says which
    (``file_empty``, ``file_too_big`` or ``bad_file_type``)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def sniff(content: bytes) -> str:
    """The extension of the type ``content`` is (pdf, jpg or png); raises UploadRefused."""
    if not content:
        raise UploadRefused("file_empty")
    if len(content) > MAX_UPLOAD_BYTES:
        raise UploadRefused("file_too_big")
    for signature, extension in _SIGNATURES:
        if content.startswith(signature):
            return extension
    raise UploadRefused("bad_file_type")


def store(folder: Path, process_id: str, content: bytes) -> str:
    """Keep ``content`` (checked by ``sniff``) under ``folder`` and return the reference the
    process records: ``upload:<sha256>.<extension>``. The same file twice is kept once."""
    extension = sniff(content)
    name = f"{hashlib.sha256(content).hexdigest()}.{extension}"
    # The process id only names a folder after its characters are made harmless.
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in process_id)[:100]
    target = folder / (safe or "_") / name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        partial.write_bytes(content)
        partial.replace(target)
    return f"upload:{name}"
