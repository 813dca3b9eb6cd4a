"""What the customer receives: one worker pass delivers the outbox through the real
notifier into senders that keep every SMS and e-mail, so a test reads the code or the new
link as the customer would."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import httpx

from relevo.bootstrap import build_worker
from relevo.config import Settings
from relevo.notify_config import NotifySettings
from relevo.services.hub import Hub
from relevo.services.notifications.access_messages import ACCESS_MESSAGE_PREFIX
from relevo.services.notifications.notifier import Notifier
from relevo.services.notifications.ports import OutgoingEmail, OutgoingSms
from relevo.services.notifications.send_log import StoreSendLog

from .pages import SECRET, Site, csrf_of, text_of


class _NoTimers:
    """Fires nothing: a test's clock moves only where the test says."""

    def fire_due_timers(self, *, limit: int = 1000) -> object:
        return None


@dataclass
class Inbox:
    """Every SMS and e-mail sent through the notifier of ``hub``, whose links are signed
    with ``secret`` (the one the pages under test verify)."""

    hub: Hub
    secret: str = SECRET
    sms: list[OutgoingSms] = field(default_factory=list)
    emails: list[OutgoingEmail] = field(default_factory=list)

    def send_sms(self, sms: OutgoingSms) -> str:
        self.sms.append(sms)
        return sms.message_id

    def send_email(self, email: OutgoingEmail) -> str:
        self.emails.append(email)
        return email.message_id

    def deliver(self) -> None:
        """One worker pass over the outbox, with the notifier sending here."""
        notifier = Notifier(
            catalog=self.hub.catalog,
            states=self.hub.states,
            email=self,
            sms=self,
            log=StoreSendLog(self.hub.store),
            settings=NotifySettings(
                link_secret=self.secret, public_base_url="https://pages.test", quiet_hours=None
            ),
        )
        worker = build_worker(self.hub, Settings(), notifier=notifier, timers=_NoTimers())
        worker.run_once()

    def access_sms(self) -> list[OutgoingSms]:
        """The SMS that carried a new link or a code (not the process's own news)."""
        return [sms for sms in self.sms if sms.message_id.startswith(ACCESS_MESSAGE_PREFIX)]

    def access_emails(self) -> list[OutgoingEmail]:
        """The e-mails that carried a new link or a code."""
        return [m for m in self.emails if m.message_id.startswith(ACCESS_MESSAGE_PREFIX)]

    def texts(self) -> list[str]:
        """The text of every message received so far, SMS then e-mail."""
        return [m.text for m in self.access_sms()] + [m.text for m in self.access_emails()]

    def last_code(self) -> str:
        """The 6-digit code of the newest message that carries one."""
        self.deliver()
        for text in reversed(self.texts()):
            found = re.search(r"\b([0-9]{6})\b", text)
            if found:
                return found.group(1)
        raise AssertionError(f"no code received: {self.texts()}")

    def last_link(self) -> str:
        """The path of the newest link received (``/p/<token>``)."""
        self.deliver()
        for text in reversed(self.texts()):
            found = re.search(r"https://pages\.test(/p/[A-Za-z0-9_.-]+)", text)
            if found:
                return found.group(1)
        raise AssertionError(f"no link received: {self.texts()}")


def confirm_with_code(site: Site, inbox: Inbox, path: str) -> httpx.Response:
    """Use the irreversible control at ``path`` as a customer does: ask for the code on
    the page of consequences, read it from the message, type it and confirm (the answer
    is not followed)."""
    page = site.client.get(path)
    asked = site.client.post(
        path + "/code", data={"csrf": csrf_of(page.text)}, follow_redirects=False
    )
    assert asked.status_code == 303, text_of(asked)
    form = site.client.get(asked.headers["location"])
    assert 'autocomplete="one-time-code"' in form.text, text_of(form)
    code = inbox.last_code()
    return site.client.post(
        path, data={"csrf": csrf_of(form.text), "code": code}, follow_redirects=False
    )
