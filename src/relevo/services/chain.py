"""The per-process hash chain that makes tampering with the log detectable."""

from __future__ import annotations

import hashlib

import orjson

from relevo.domain.model import Event

GENESIS = ""


def event_hash(prev_hash: str, process_id: str, version: int, event: Event) -> str:
    """SHA-256 over the previous hash, the event's place and its canonical JSON record."""
    body = orjson.dumps(event.as_record(), option=orjson.OPT_SORT_KEYS)
    digest = hashlib.sha256(f"{prev_hash}|{process_id}|{version}|".encode())
    digest.update(body)
    return digest.hexdigest()
