"""Settings, read once from the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from relevo.domain.parking import DEFAULT_PARK_TTL
from relevo.notify_config import NotifySettings
from relevo.services import limits
from relevo.services.pipeline import WriterKind
from relevo.services.records import DEFAULT_RETRY_AFTER
from relevo.services.state_cache import DEFAULT_CAPACITY

DEFAULT_DATABASE_URL = "sqlite:///var/relevo.db"
#: Names each problem type without pointing at a host the project does not run: the API's
#: error ``type`` is this plus a slug (``urn:relevo:problem:not-found``), documented in
#: docs/problems.md. Operators who publish those docs set their own base URL.
DEFAULT_PROBLEM_BASE_URL = "urn:relevo:problem:"
#: How long a running server trusts a verified API key; a revoked key works at most this long.
DEFAULT_KEY_CACHE_SECONDS = 1.0
#: A longer cache would let a revoked key work on for too long.
MAX_KEY_CACHE_SECONDS = 60.0
#: How often a message may fail before it is dead (and waits for a replay).
DEFAULT_OUTBOX_MAX_ATTEMPTS = 8
#: How long a worker holds the messages it claimed; a killed worker's are taken over after.
DEFAULT_WORKER_LEASE_SECONDS = 120.0
#: How long the oldest due outbox message may wait before ``/readyz`` calls the backlog stuck.
DEFAULT_BACKLOG_STUCK_SECONDS = 600.0
#: How long a message that arrived before its stage waits for it (the engine's default).
DEFAULT_PARK_TTL_HOURS = DEFAULT_PARK_TTL / timedelta(hours=1)
#: Where documents customers upload are kept, unless RELEVO_UPLOAD_DIR says otherwise.
DEFAULT_UPLOAD_DIR = Path("var/uploads")
#: A month: a message that waited longer is stale, not early.
MAX_PARK_TTL_HOURS = 720.0
_SIZE = re.compile(r"(\d+)\s*(B|KiB|MiB)?", re.IGNORECASE)


@dataclass(frozen=True)
class Settings:
    """Everything relevo needs to know about where it runs.

    ``RELEVO_DATABASE_URL`` picks the store (SQLite file by default, ``postgresql://…`` in
    production); ``RELEVO_CATALOG_DIR`` names a folder whose definitions override or extend
    the shipped catalog. ``RELEVO_STATE_CACHE`` is how many process states ingest keeps in
    memory between batches (about 8 KB each; 0 turns the cache off).
    ``RELEVO_INGEST_WRITER`` says where streamed ingest (``relevo ingest``) writes batches:
    ``process`` (a child process, the default and the fastest) or ``thread`` (for hosts
    where a service may not start processes). ``RELEVO_KEY_CACHE_SECONDS`` is how long a
    server trusts an API key it verified before checking it again (default 1 s; 0 checks
    every request): it bounds how long a revoked key keeps working on a running server.
    ``RELEVO_PROBLEM_BASE_URL`` is the start of every error's ``type`` in API answers (RFC
    9457), the problem's slug appended: point it at where you publish docs/problems.md, e.g.
    ``https://docs.example.com/relevo/problems#`` (its sections are named by slug).
    The worker: ``RELEVO_OUTBOX_MAX_ATTEMPTS`` failed attempts make a message dead (default
    8), ``RELEVO_WORKER_LEASE_SECONDS`` is how long a worker holds what it claimed (default
    120), and ``/readyz`` answers 503 once the oldest due message has waited
    ``RELEVO_BACKLOG_STUCK_SECONDS`` (default 600).
    ``RELEVO_RETRY_AFTER_SECONDS`` is how long callers are told to wait (``Retry-After``)
    when the database cannot serve them (default 2 s).
    ``RELEVO_PARK_TTL_HOURS`` is how long a back-end message that arrived before the stage
    that accepts it waits for that stage (default 72 h, at most 720 h); after that it is kept
    as a dead letter with the reason.

    Limits on what is received (each refused with a 4xx problem naming the limit):
    ``RELEVO_MAX_BODY_BYTES`` bounds the body of every request but ``POST /v1/events``
    (default 1 MiB), ``RELEVO_MAX_EVENTS_BODY_BYTES`` the body of ``POST /v1/events``
    (default 64 MiB), ``RELEVO_MAX_EVENT_BYTES`` one event as JSON, in a batch or a file
    (default 256 KiB; a larger one is refused alone and kept, cut short, as a dead letter),
    and ``RELEVO_MAX_JSON_DEPTH`` how deep an event's data, a process's attributes or an
    action's params may nest (default 32 levels, at most 200).
    ``RELEVO_UPLOAD_DIR`` is the folder where documents customers upload on their pages are
    kept (default ``var/uploads``).
    """

    database_url: str = DEFAULT_DATABASE_URL
    catalog_dir: Path | None = None
    state_cache: int = DEFAULT_CAPACITY
    ingest_writer: WriterKind = "process"
    problem_base_url: str = DEFAULT_PROBLEM_BASE_URL
    key_cache_seconds: float = DEFAULT_KEY_CACHE_SECONDS
    #: E-mail, SMS, links and quiet hours: see ``relevo.notify_config.NotifySettings``.
    notify: NotifySettings = field(default_factory=NotifySettings)
    outbox_max_attempts: int = DEFAULT_OUTBOX_MAX_ATTEMPTS
    worker_lease_seconds: float = DEFAULT_WORKER_LEASE_SECONDS
    backlog_stuck_seconds: float = DEFAULT_BACKLOG_STUCK_SECONDS
    retry_after_seconds: int = DEFAULT_RETRY_AFTER
    park_ttl_hours: float = DEFAULT_PARK_TTL_HOURS
    upload_dir: Path = DEFAULT_UPLOAD_DIR

    @property
    def park_ttl(self) -> timedelta:
        """``park_ttl_hours`` as a duration."""
        return timedelta(hours=self.park_ttl_hours)

    max_body_bytes: int = limits.DEFAULT_BODY_BYTES
    max_events_body_bytes: int = limits.DEFAULT_EVENTS_BODY_BYTES
    max_event_bytes: int = limits.DEFAULT_EVENT_BYTES
    max_json_depth: int = limits.DEFAULT_JSON_DEPTH

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from ``RELEVO_*`` environment variables, with safe defaults."""
        catalog = os.environ.get("RELEVO_CATALOG_DIR")
        return cls(
            database_url=os.environ.get("RELEVO_DATABASE_URL", DEFAULT_DATABASE_URL),
            catalog_dir=Path(catalog) if catalog else None,
            state_cache=_count("RELEVO_STATE_CACHE", DEFAULT_CAPACITY),
            ingest_writer=_writer("RELEVO_INGEST_WRITER"),
            problem_base_url=os.environ.get("RELEVO_PROBLEM_BASE_URL", "").strip()
            or DEFAULT_PROBLEM_BASE_URL,
            key_cache_seconds=_seconds("RELEVO_KEY_CACHE_SECONDS", DEFAULT_KEY_CACHE_SECONDS),
            notify=NotifySettings.from_env(),
            outbox_max_attempts=max(
                1, _count("RELEVO_OUTBOX_MAX_ATTEMPTS", DEFAULT_OUTBOX_MAX_ATTEMPTS)
            ),
            worker_lease_seconds=max(
                1, _count("RELEVO_WORKER_LEASE_SECONDS", int(DEFAULT_WORKER_LEASE_SECONDS))
            ),
            backlog_stuck_seconds=max(
                1, _count("RELEVO_BACKLOG_STUCK_SECONDS", int(DEFAULT_BACKLOG_STUCK_SECONDS))
            ),
            retry_after_seconds=_count("RELEVO_RETRY_AFTER_SECONDS", DEFAULT_RETRY_AFTER),
            park_ttl_hours=_hours("RELEVO_PARK_TTL_HOURS", DEFAULT_PARK_TTL_HOURS),
            max_body_bytes=_bytes("RELEVO_MAX_BODY_BYTES", limits.DEFAULT_BODY_BYTES),
            max_events_body_bytes=_bytes(
                "RELEVO_MAX_EVENTS_BODY_BYTES", limits.DEFAULT_EVENTS_BODY_BYTES
            ),
            max_event_bytes=_bytes("RELEVO_MAX_EVENT_BYTES", limits.DEFAULT_EVENT_BYTES),
            max_json_depth=_depth("RELEVO_MAX_JSON_DEPTH"),
            upload_dir=Path(os.environ.get("RELEVO_UPLOAD_DIR", "").strip() or DEFAULT_UPLOAD_DIR),
        )


def _writer(name: str) -> WriterKind:
    text = os.environ.get(name, "").strip().lower() or "process"
    if text == "process":
        return "process"
    if text == "thread":
        return "thread"
    raise ValueError(f"{name} must be 'process' or 'thread', not {text!r}")


def _count(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = -1
    if value < 0:
        raise ValueError(f"{name} must be a whole number of 0 or more, not {text!r}")
    return value


def _seconds(name: str, default: float) -> float:
    return _number(
        name,
        default,
        lambda value: 0 <= value <= MAX_KEY_CACHE_SECONDS,
        f"a number of seconds from 0 to {MAX_KEY_CACHE_SECONDS:g}",
    )


def _hours(name: str, default: float) -> float:
    return _number(
        name,
        default,
        lambda value: 0 < value <= MAX_PARK_TTL_HOURS,
        f"a number of hours above 0 and at most {MAX_PARK_TTL_HOURS:g}",
    )


def _number(name: str, default: float, fits: Callable[[float], bool], expected: str) -> float:
    """The number in environment variable ``name`` (``default`` when unset); raises
    ValueError saying it must be ``expected`` when it does not ``fits``."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not fits(value):
        raise ValueError(f"{name} must be {expected}, not {text!r}")
    return value


def _bytes(name: str, default: int) -> int:
    """A size from ``name``: a number of bytes, or of KiB or MiB (``256KiB``, ``64 MiB``)."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    match = _SIZE.fullmatch(text.replace("_", ""))
    value = 0
    if match:
        unit = (match[2] or "b").lower()
        value = int(match[1]) * {"b": 1, "kib": limits.KIB, "mib": limits.MIB}[unit]
    if value < 1:
        raise ValueError(
            f"{name} must be a size of at least 1 byte, e.g. 1048576, 256KiB or 64MiB, not {text!r}"
        )
    return value


def _depth(name: str) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return limits.DEFAULT_JSON_DEPTH
    value = int(text) if text.isdigit() else 0
    if not 1 <= value <= limits.MOST_JSON_DEPTH:
        raise ValueError(
            f"{name} must be a whole number of levels from 1 to {limits.MOST_JSON_DEPTH}, "
            f"not {text!r}"
        )
    return value
