"""What people see of outbound delivery: the outbox by status, replays, a process's
notification attempts, and the backlog figures behind ``/metrics`` and ``/readyz``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from relevo.domain.model import JSON, iso
from relevo.domain.outbox import NOTIFICATION_TOPIC
from relevo.services.delivery_records import DeliveryAttempt, OutboxEntry, OutboxStats
from relevo.services.processes import NotFound
from relevo.services.unit_of_work import Store

Clock = Callable[[], datetime]
#: The topic of the CRM's milestone summaries.
CRM_TOPIC = "crm.milestone"


def channel_of(topic: str) -> str:
    """The channel a topic's messages leave by: ``notification``, ``crm`` or ``webhook``."""
    if topic == NOTIFICATION_TOPIC:
        return "notification"
    if topic == CRM_TOPIC:
        return "crm"
    return "webhook"


def entry_json(entry: OutboxEntry) -> JSON:
    """An outbox entry as the admin API and CLI show it."""
    return {
        "id": entry.id,
        "process_id": entry.process_id,
        "topic": entry.topic,
        "channel": channel_of(entry.topic),
        "message_id": entry.idempotency_key,
        "status": entry.status,
        "attempts": entry.attempts,
        "created_at": entry.created_at,
        "available_at": entry.available_at,
        "claimed_by": entry.claimed_by,
        "claimed_until": entry.claimed_until,
        "sent_at": entry.sent_at,
        "last_error": entry.last_error,
        "payload": entry.payload,
    }


def attempt_json(attempt: DeliveryAttempt) -> JSON:
    """A delivery attempt as the API and the timeline show it."""
    return {
        "outbox_id": attempt.outbox_id,
        "topic": attempt.topic,
        "channel": channel_of(attempt.topic),
        "attempt": attempt.attempt,
        "at": attempt.at,
        "outcome": attempt.outcome,
        "detail": attempt.detail,
        "facts": attempt.facts,
    }


def entries(
    store: Store, status: str | None = None, *, after: int = 0, limit: int = 100
) -> list[JSON]:
    """Outbox entries of one status (``None``: all), in the order written."""
    with store.unit_of_work(read_only=True) as uow:
        return [entry_json(e) for e in uow.outbox_entries(status, after=after, limit=limit)]


def replay(store: Store, id: int, clock: Clock) -> JSON:
    """Make a finished (sent, superseded or dead) entry pending again now; ``NotFound``,
    ``ValueError`` when it is still pending."""
    with store.unit_of_work() as uow:
        try:
            entry = uow.replay_outbox(id, iso(clock()))
        except LookupError:
            raise NotFound(f"No outbox message {id}; 'relevo outbox list' shows them.") from None
        uow.commit()
    return entry_json(entry)


#: Finished messages whose attempts one purge transaction deletes.
PURGE_CHUNK = 1000


def purge_attempts(store: Store, clock: Clock, older_than: timedelta) -> JSON:
    """Delete the delivery attempts of finished messages (sent or superseded) whose last
    attempt is older than ``older_than``, a chunk of messages per transaction so the
    worker and ingest are not held up; pending and dead messages keep theirs (a dead one
    is replayed with its history). Returns ``{"before", "messages", "attempts"}``."""
    if older_than <= timedelta(0):
        raise ValueError("the retention period must be positive")
    before = iso(clock() - older_than)
    messages = attempts = 0
    while True:
        with store.unit_of_work() as uow:
            done, deleted = uow.purge_attempts(before, PURGE_CHUNK)
            uow.commit()
        messages, attempts = messages + done, attempts + deleted
        if done < PURGE_CHUNK:
            return {"before": before, "messages": messages, "attempts": attempts}


def attempts_of(store: Store, process_id: str, *, notifications_only: bool = False) -> list[JSON]:
    """The delivery attempts of one process's messages, oldest first."""
    with store.unit_of_work(read_only=True) as uow:
        found = uow.delivery_attempts(process_id=process_id)
    if notifications_only:
        found = [a for a in found if a.topic == NOTIFICATION_TOPIC]
    return [attempt_json(a) for a in found]


def waited(since: str | None, now: datetime) -> float:
    """Seconds from ``since`` (ISO UTC) to ``now``; 0 when there is nothing waiting."""
    return max((now - datetime.fromisoformat(since)).total_seconds(), 0.0) if since else 0.0


def oldest_due_age(store: Store, clock: Clock) -> float:
    """How long the oldest due outbox message has waited, in seconds (0: none waits)."""
    now = clock()
    with store.unit_of_work(read_only=True) as uow:
        return waited(uow.oldest_due_outbox(iso(now)), now)


@dataclass(frozen=True, slots=True)
class Backlog:
    """The outbox figures and how late the oldest due timer and message are (seconds)."""

    stats: OutboxStats
    timer_lag: float
    oldest_due_age: float


def backlog(store: Store, clock: Clock) -> Backlog:
    """The backlog now: entries per topic and status, attempts per outcome, and how long
    the oldest due timer and the oldest due message have been waiting."""
    now = clock()
    at = iso(now)
    with store.unit_of_work(read_only=True) as uow:
        stats = uow.outbox_stats(at)
        due = uow.due_timers(at, limit=1)
    timer_lag = (now - datetime.fromisoformat(due[0][1])).total_seconds() if due else 0.0
    age = (
        (now - datetime.fromisoformat(stats.oldest_due)).total_seconds() if stats.oldest_due else 0
    )
    return Backlog(stats, max(timer_lag, 0.0), max(float(age), 0.0))
