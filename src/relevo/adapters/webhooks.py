"""Webhooks over HTTP: Standard Webhooks signing (the ``standardwebhooks`` package) and
posting with httpx."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import httpx
from standardwebhooks import Webhook

from relevo.services.webhooks import WebhookPost

#: Receivers should answer fast and work later; a slow one is retried, not waited for.
DEFAULT_TIMEOUT = 10.0


def signature(secrets: Sequence[str], message_id: str, at: datetime, body: bytes) -> str:
    """The ``webhook-signature`` header: ``v1,<base64 HMAC-SHA256>`` per secret, space
    separated (several during a secret's rotation)."""
    return " ".join(Webhook(secret).sign(message_id, at, body) for secret in secrets)


def headers(secrets: Sequence[str], message_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The headers of one signed webhook."""
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature(secrets, message_id, at, body),
    }


class HttpxWebhookSender:
    """Signs and posts webhooks over one pooled httpx client."""

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, client: httpx.Client | None = None):
        self.client = client or httpx.Client(timeout=timeout, follow_redirects=False)

    def send(
        self,
        url: str,
        secrets: Sequence[str],
        message_id: str,
        at: datetime,
        body: bytes,
    ) -> WebhookPost:
        """Post one signed webhook; a network failure is an answer without a status."""
        try:
            response = self.client.post(
                url, content=body, headers=headers(secrets, message_id, at, body)
            )
        except httpx.HTTPError as error:
            return WebhookPost(None, f"{type(error).__name__}: {error}"[:300])
        return WebhookPost(response.status_code)

    def close(self) -> None:
        """Close the pooled connections."""
        self.client.close()
