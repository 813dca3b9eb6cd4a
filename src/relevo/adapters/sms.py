"""SMS senders: an HTTP provider (JSON ``{to, from, text}`` with a Bearer token) and a
``log`` provider for the demo that writes each SMS to the log instead of sending it."""

from __future__ import annotations

import logging

import httpx

from relevo.services.notifications.ports import OutgoingSms, SendFailed

log = logging.getLogger("relevo.sms")


class HttpSmsSender:
    """Posts each SMS to a provider's HTTP API.

    ``POST <url>`` with ``Authorization: Bearer <token>``, ``Idempotency-Key: <message id>``
    and the JSON body ``{"to": "+34…", "from": "<sender>", "text": "…"}``; a 2xx answer is
    accepted and its JSON ``id`` (if any) kept as the receipt. 408, 429 and 5xx answers and
    network errors are transient; any other 4xx is permanent (bad number, bad request).
    """

    def __init__(
        self,
        url: str,
        token: str,
        sender: str,
        *,
        client: httpx.Client | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.token = token
        self.sender = sender
        self.client = client or httpx.Client(timeout=timeout)

    def send_sms(self, sms: OutgoingSms) -> str:
        """Send ``sms``; returns the provider's id for it ("" when it gives none)."""
        headers = {"Idempotency-Key": sms.message_id}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = {"to": sms.to, "from": self.sender, "text": sms.text}
        try:
            answer = self.client.post(self.url, json=body, headers=headers)
        except httpx.HTTPError as error:
            raise SendFailed(f"SMS provider unreachable: {error}", permanent=False) from None
        status = answer.status_code
        if 200 <= status < 300:
            try:
                data = answer.json()
            except ValueError:
                return ""
            return str(data.get("id", "")) if isinstance(data, dict) else ""
        transient = status in (408, 429) or status >= 500
        raise SendFailed(f"SMS provider answered {status}", permanent=not transient)

    def close(self) -> None:
        """Release the HTTP connections."""
        self.client.close()


class LogSmsSender:
    """Writes each SMS to the ``relevo.sms`` log (the demo's provider)."""

    def send_sms(self, sms: OutgoingSms) -> str:
        """Log ``sms``; returns its message id."""
        log.info("SMS to %s: %s", sms.to, sms.text, extra={"message_id": sms.message_id})
        return sms.message_id
