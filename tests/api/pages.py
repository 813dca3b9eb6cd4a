"""Builders for the customer's pages: an app with a link secret over an emptied, migrated
database (the ``site`` fixture in conftest), signed links, and page readers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx

from relevo.bootstrap import build_access, build_hub
from relevo.config import Settings
from relevo.services.keys import create_key
from relevo.services.notifications.links import sign_token
from relevo.web.app import create_app

from .builders import START, Api, Clock, TestClient, accepted_by_nc, event

SECRET = "page-test-secret"


@dataclass
class Site:
    """The API (to set processes up) and helpers to browse the pages as a customer."""

    api: Api
    uploads: Path

    @property
    def client(self) -> TestClient:
        return self.api.client

    def link(self, process_id: str, customer_id: str = "cust-1", hours: float = 72) -> str:
        """The path of a signed link to ``process_id`` valid ``hours`` from now."""
        expires = self.api.clock.now + timedelta(hours=hours)
        return "/p/" + sign_token(SECRET, process_id, customer_id, expires)

    def scheduled(
        self,
        customer_id: str = "cust-1",
        subject: str = "612345678",
        contact: dict[str, str] | None = None,
    ) -> str:
        """A mobile port-in accepted by the central node, its window on Wednesday night;
        the customer's contact on file is their mobile unless ``contact`` says otherwise."""
        attributes = {
            "modality": "postpaid",
            **(contact if contact is not None else {"contact_phone": subject}),
        }
        view = self.api.start(
            customer_id=customer_id,
            subject=subject,
            keys={"crm_order_id": f"ORD-{subject}"},
            attributes=attributes,
        )
        response = self.api.send(accepted_by_nc(msisdn=subject, reference=f"NC-{subject}"))
        assert response.status_code in (200, 202), response.text
        process_id: str = view["id"]
        return process_id

    def sign_in(self, process_id: str, customer_id: str = "cust-1") -> httpx.Response:
        """Open the customer's link; the answer is the page it redirects to."""
        return self.client.get(self.link(process_id, customer_id), follow_redirects=True)


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, html
    return found.group(1)


def input_attr(html: str, name: str, attr: str) -> str:
    """An attribute of the input called ``name`` on a page."""
    tag = re.search(r'<input [^>]*name="' + name + r'"[^>]*>', html)
    assert tag, html
    value = re.search(attr + r'="([^"]*)"', tag.group(0))
    assert value, tag.group(0)
    return value.group(1)


def text_of(response: httpx.Response) -> str:
    """The visible words of a page, tags removed and whitespace collapsed."""
    words = re.sub(r"<[^>]+>", " ", response.text)
    return " ".join(words.split())


@contextmanager
def open_site(db_url: str, uploads: Path, secret: str | None = SECRET) -> Iterator[Site]:
    """A fresh app on an emptied, migrated database, with one API key per scope and the
    customer's pages when there is a link ``secret``."""
    clock = Clock(START)
    hub = build_hub(Settings(database_url=db_url), clock=clock)
    keys = {
        scope: create_key(hub.store, f"{scope}-key", [scope])[1]
        for scope in ("ingest", "channel", "admin")
    }
    app = create_app(hub, link_secret=secret, upload_dir=uploads, access=build_access(hub.store))
    with TestClient(app, raise_server_exceptions=True) as client:
        yield Site(Api(client, hub, clock, keys), uploads)
    hub.store.engine.dispose()


def rejected_id(site: Site, subject: str = "612345678") -> None:
    """The donor rejects the port of ``subject``: the ID does not match."""
    response = site.api.send(event("donor.rejected", {"msisdn": subject, "cause": "RECH_IDENT"}))
    assert response.status_code in (200, 202), response.text
