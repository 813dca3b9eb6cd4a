"""E-mail over SMTP (``smtplib``): STARTTLS, implicit TLS or plain, with optional login."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from relevo.notify_config import NotifySettings
from relevo.services.notifications.ports import OutgoingEmail, SendFailed


class SmtpEmailSender:
    """Sends each e-mail on its own SMTP connection to the configured server."""

    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings

    def send_email(self, email: OutgoingEmail) -> str:
        """Send ``email`` (plain text and HTML alternatives); returns the Message-ID.

        Refused recipients and 5xx answers are permanent failures; 4xx answers, timeouts
        and connection errors are transient."""
        message = self.compose(email)
        try:
            with self._connect() as smtp:
                if self.settings.smtp_username:
                    smtp.login(self.settings.smtp_username, self.settings.smtp_password)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise SendFailed(f"recipient refused ({codes})", permanent=_permanent(codes)) from None
        except smtplib.SMTPResponseException as error:
            raise SendFailed(
                f"SMTP {error.smtp_code}: {_text(error.smtp_error)}",
                permanent=_permanent([error.smtp_code]),
            ) from None
        except (smtplib.SMTPException, OSError) as error:
            raise SendFailed(f"SMTP unavailable: {error}", permanent=False) from None
        return str(message["Message-ID"])

    def compose(self, email: OutgoingEmail) -> EmailMessage:
        """The MIME message for ``email``: text/plain then text/html alternatives."""
        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = email.to
        message["Subject"] = email.subject
        message["Date"] = formatdate(localtime=False)
        domain = self.settings.mail_from.rpartition("@")[2] or "relevo.local"
        message["Message-ID"] = make_msgid(idstring=email.message_id, domain=domain)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(email.text)
        message.add_alternative(email.html, subtype="html")
        # After the parts: making the message multipart moves Content-* headers into them.
        message["Content-Language"] = email.language
        return message

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.smtp_security == "tls":
            context = ssl.create_default_context()
            return smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=s.smtp_timeout, context=context
            )
        smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
        if s.smtp_security == "starttls":
            try:
                smtp.starttls(context=ssl.create_default_context())
            except BaseException:
                smtp.close()
                raise
        return smtp


def _permanent(codes: list[int]) -> bool:
    return bool(codes) and all(500 <= code < 600 for code in codes)


def _text(raw: bytes | str) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else raw
