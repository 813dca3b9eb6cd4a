"""A real relevo server for the browser tests: uvicorn on 127.0.0.1 (a free port) in a
thread, the customer's pages switched on, a migrated SQLite database, and a hub on a hand-moved
clock (which also times the customer's sessions, link uses and one-time codes).
Processes are set up through the hub with the back-ends' own events, each for a customer of
its own (with their mobile on file, where codes and new links go) so tests sharing a server
never see each other's processes. ``Server.inbox`` receives what the notifier sends."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import count
from pathlib import Path
from typing import Any

import uvicorn

from api.builders import START, Clock, accepted_by_nc, event
from api.inbox import Inbox
from relevo.bootstrap import build_access, build_hub, migrate
from relevo.config import Settings
from relevo.domain.model import Outcome
from relevo.services.hub import Hub
from relevo.services.notifications.links import sign_token
from relevo.services.processes import StartRequest
from relevo.web.app import create_app

SECRET = "browser-test-secret"


@dataclass
class Server:
    """The running server, its hub and clock, and ways to set processes up."""

    base_url: str
    hub: Hub
    clock: Clock
    uploads: Path
    inbox: Inbox
    _numbers: Iterator[int] = field(default_factory=lambda: count(1))
    _subjects: Iterator[int] = field(default_factory=lambda: count(612_000_001))
    _hours: Iterator[int] = field(default_factory=lambda: count(1000))

    def new_customer(self) -> str:
        """An id no other test of this server uses."""
        return f"cust-{next(self._numbers)}"

    def link(self, process_id: str, customer_id: str, hours: float = 72) -> str:
        """The path of a signed link to ``process_id``; ``hours`` < 0 makes it expired."""
        expires = self.clock.now + timedelta(hours=hours)
        return "/p/" + sign_token(SECRET, process_id, customer_id, expires)

    @contextmanager
    def later(self, **delta: float) -> Iterator[None]:
        """Move the clock forward by ``timedelta(**delta)`` for the block, then back (the
        other tests of the module share it)."""
        before = self.clock.now
        self.clock.advance(**delta)
        try:
            yield
        finally:
            self.clock.now = before

    @contextmanager
    def in_an_hour_of_its_own(self) -> Iterator[None]:
        """Move the clock for the block to an hour no other test of this server uses: rate
        limits count requests per hour and client address, and every test's browser is
        127.0.0.1, so a test that reaches a limit must not use up the others' allowance."""
        with self.later(hours=next(self._hours)):
            yield

    def start(self, customer_id: str, kind: str = "mobile_port_in", **request: Any) -> str:
        """Open a process of ``kind`` for ``customer_id`` (a mobile port-in by default,
        its number unique to the customer and on file as their contact); its id."""
        number = next(self._subjects)
        defaults: dict[str, Any] = {
            "subject": str(number),
            "keys": {"crm_order_id": f"ORD-{customer_id}-{number}"},
            "attributes": {"modality": "postpaid", "contact_phone": str(number)},
            "channel": "web",
        }
        view = self.hub.start_process(
            StartRequest(kind=kind, customer_id=customer_id, **{**defaults, **request})
        )
        process_id: str = view["id"]
        return process_id

    def send(self, *events: dict[str, Any]) -> None:
        """Back-end events, each of which must be accepted."""
        results = self.hub.receive(list(events))
        refused = [r for r in results if r.outcome is not Outcome.ACCEPTED]
        assert not refused, refused

    def subject(self, process_id: str) -> str:
        """The number (subject) of ``process_id``."""
        return str(self.hub.view(process_id, "es")["subject"]["value"])

    def port_in(self, customer_id: str, *, confirmed: bool = False) -> str:
        """A mobile port-in accepted by the central node (window on Wednesday night), and
        ``confirmed`` by the donor too."""
        process_id = self.start(customer_id)
        msisdn = self.subject(process_id)
        self.send(accepted_by_nc(msisdn=msisdn, reference=f"NC-{msisdn}"))
        if confirmed:
            self.send(event("donor.confirmed", {"msisdn": msisdn}))
        return process_id

    def missed_visit(self, customer_id: str) -> str:
        """An electricity supplier switch scheduled with field work, whose technician found
        nobody at home (incident F01: the customer picks a new visit)."""
        cups = f"ES0021{next(self._subjects):012d}AB"
        process_id = self.start(
            customer_id,
            "energy_switch",
            subject=cups,
            keys={"crm_order_id": f"ORD-{cups}"},
            # Field incidences (step 03) come with a C2 request: a switch with a power change.
            attributes={
                "supply_type": "electricity",
                "changes": "power",
                "power_p1": "5.75",
                "power_p2": "5.75",
                "contact_phone": "699000111",
            },
        )
        self.send(
            event("atr.submitted", {"cups": cups, "request_id": f"ATR-{cups}"}),
            event(
                "distributor.accepted",
                {
                    "cups": cups,
                    "activation_date": "2025-03-12",
                    "activation_type": "C0",
                    "field_work": True,
                },
            ),
            event("field.incidence", {"cups": cups, "code": "01"}),
        )
        return process_id

    def reject(self, process_id: str, cause: str = "RECH_IDENT") -> None:
        """The donor rejects the port of ``process_id`` with ``cause``."""
        self.send(event("donor.rejected", {"msisdn": self.subject(process_id), "cause": cause}))


@contextmanager
def serve(folder: Path) -> Iterator[Server]:
    """Serve relevo from ``folder`` (database and uploads) until the block ends."""
    settings = Settings(database_url=f"sqlite:///{folder / 'relevo.db'}")
    migrate(settings)
    clock = Clock(START)
    hub = build_hub(settings, clock=clock)
    app = create_app(
        hub,
        link_secret=SECRET,
        upload_dir=folder / "uploads",
        access=build_access(hub.store),
        access_clock=clock,
    )
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="browser-test-server"
    )
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the test server did not start")
            threading.Event().wait(0.02)
        uploads = folder / "uploads"
        yield Server(f"http://127.0.0.1:{port}", hub, clock, uploads, Inbox(hub, SECRET))
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
        hub.close()
