"""E-mail written to the log instead of sent (the demo's provider)."""

from __future__ import annotations

import logging

from relevo.services.notifications.ports import OutgoingEmail

log = logging.getLogger("relevo.email")


class LogEmailSender:
    """Writes each e-mail's recipient, subject and plain text to the ``relevo.email`` log."""

    def send_email(self, email: OutgoingEmail) -> str:
        """Log ``email``; returns its message id."""
        log.info(
            "e-mail to %s: %s\n%s",
            email.to,
            email.subject,
            email.text,
            extra={"message_id": email.message_id},
        )
        return email.message_id
