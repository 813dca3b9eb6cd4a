"""The real channels: an SMTP server (aiosmtpd) and an HTTP SMS provider on 127.0.0.1."""

from __future__ import annotations

import email
import json
import socket
import threading
from collections.abc import Iterator
from email.message import Message
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope as SmtpEnvelope

from notifications.support import SECRET, envelopes, notifier_for, settings
from relevo.adapters.sms import HttpSmsSender, LogSmsSender
from relevo.adapters.smtp import SmtpEmailSender
from relevo.services.delivery import DeliveryOutcome
from relevo.services.notifications.links import verify_token
from relevo.services.notifications.ports import OutgoingSms, SendFailed
from scenarios.helpers import madrid
from scenarios.test_energy_switch import requested


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.rcpts: list[list[str]] = []

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: SmtpEnvelope, address: str, options: Any
    ) -> str:
        if address.startswith("nobody@"):
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: SmtpEnvelope
    ) -> str:
        self.rcpts.append(list(envelope.rcpt_tos))
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))  # type: ignore[arg-type]
        return "250 Message accepted"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with socket.socket() as probe:  # a free port: aiosmtpd checks it is up by connecting
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def started(language: str = "es"):  # type: ignore[no-untyped-def]
    run = requested(
        language=language,
        attributes={"contact_email": "ana@example.com", "contact_phone": "+34612345678"},
    )
    run.send("atr.submitted", {"request_id": "ATR-1"}, at=madrid(2026, 10, 5, 12, 0))
    return run


@pytest.mark.parametrize(
    ("language", "subject", "sentence"),
    [
        ("es", "Cambio de tu luz o tu gas a nosotros", "Hemos pedido tu cambio a la distribuidora"),
        ("en", "Switching your electricity or gas to us", "We asked the distribution company"),
    ],
)
def test_an_email_reaches_a_real_smtp_server(
    smtp_server: tuple[Inbox, int], language: str, subject: str, sentence: str
) -> None:
    inbox, port = smtp_server
    run = started(language)
    smtp = SmtpEmailSender(settings(smtp_port=port, smtp_security="none"))
    notifier = notifier_for(run, email=smtp, sms=LogSmsSender())
    (envelope,) = envelopes(run, "switch_requested")
    delivery = notifier.deliver(envelope, madrid(2026, 10, 5, 12, 1))
    assert delivery.outcome is DeliveryOutcome.SENT, delivery.detail
    (message,) = inbox.messages
    assert inbox.rcpts == [["ana@example.com"]]
    assert message["Subject"] == subject
    assert message["Content-Language"] == language
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert sentence in text and sentence in html
    assert run.state.id in text and run.state.id in html
    link = next(line for line in text.splitlines() if "/p/" in line).strip()
    assert link.startswith("http://127.0.0.1:8000/p/") and f'href="{link}"' in html
    claims = verify_token(SECRET, link.rsplit("/", 1)[1], madrid(2026, 10, 5, 12, 1))
    assert claims.process_id == run.state.id


def test_a_refused_recipient_is_a_permanent_failure(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    run = started()
    run.state.attributes["contact_email"] = "nobody@example.com"
    run.state.attributes["notify_channels"] = ["email"]
    smtp = SmtpEmailSender(settings(smtp_port=port, smtp_security="none"))
    (envelope,) = envelopes(run, "switch_requested")
    delivery = notifier_for(run, email=smtp).deliver(envelope, madrid(2026, 10, 5, 12, 1))
    assert delivery.outcome is DeliveryOutcome.FAILED_PERMANENT
    assert inbox.messages == []


def test_an_smtp_server_that_is_down_is_a_transient_failure() -> None:
    smtp = SmtpEmailSender(settings(smtp_port=1, smtp_security="none", smtp_timeout=2.0))
    run = started()
    run.state.attributes["notify_channels"] = ["email"]
    (envelope,) = envelopes(run, "switch_requested")
    delivery = notifier_for(run, email=smtp).deliver(envelope, madrid(2026, 10, 5, 12, 1))
    assert delivery.outcome is DeliveryOutcome.FAILED_TRANSIENT


class Provider(BaseHTTPRequestHandler):
    """A fake SMS provider: answers with the status the test sets, keeps what it got."""

    received: ClassVar[list[tuple[dict[str, str], dict[str, Any]]]] = []
    status = 201

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append((dict(self.headers), body))
        answer = json.dumps({"id": f"sm-{len(self.received)}"}).encode()
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def provider() -> Iterator[str]:
    Provider.received, Provider.status = [], 201
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/sms"
    finally:
        server.shutdown()
        server.server_close()


def test_an_sms_reaches_the_http_provider(provider: str) -> None:
    run = started()
    run.state.attributes["notify_channels"] = ["sms"]
    sender = HttpSmsSender(provider, "tok-123", "Relevo")
    (envelope,) = envelopes(run, "switch_requested")
    delivery = notifier_for(run, sms=sender).deliver(envelope, madrid(2026, 10, 5, 12, 1))
    sender.close()
    assert delivery.outcome is DeliveryOutcome.SENT
    ((headers, body),) = Provider.received
    assert headers["Authorization"] == "Bearer tok-123"
    assert headers["Idempotency-Key"] == f"{envelope.message_id}.sms"
    assert body["to"] == "+34612345678" and body["from"] == "Relevo"
    assert body["text"].startswith("Hemos pedido tu cambio") and "/p/" in body["text"]
    assert (delivery.facts or {})["channels"]["sms"]["receipt"] == "sm-1"


@pytest.mark.parametrize(("status", "permanent"), [(400, True), (429, False), (503, False)])
def test_provider_errors_are_permanent_or_transient(
    provider: str, status: int, permanent: bool
) -> None:
    Provider.status = status
    sender = HttpSmsSender(provider, "tok-123", "Relevo")
    with pytest.raises(SendFailed) as failed:
        sender.send_sms(OutgoingSms("+34612345678", "hola", "m-1"))
    sender.close()
    assert failed.value.permanent is permanent


def test_an_unreachable_provider_is_transient() -> None:
    sender = HttpSmsSender("http://127.0.0.1:1/sms", "", "Relevo", timeout=2.0)
    with pytest.raises(SendFailed) as failed:
        sender.send_sms(OutgoingSms("+34612345678", "hola", "m-1"))
    assert failed.value.permanent is False


def test_the_log_provider_writes_the_sms_to_the_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="relevo.sms")
    LogSmsSender().send_sms(OutgoingSms("+34612345678", "Tu cambio está en marcha", "m-1"))
    assert "SMS to +34612345678: Tu cambio está en marcha" in caplog.text
