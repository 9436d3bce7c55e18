"""The one seam over smtplib: connect (ssl, starttls or none), log in, send to explicit recipients.

Every SMTP call has the configured timeout (`[smtp] timeout_seconds`), connecting included.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from types import TracebackType

from campaign.settings import SmtpSettings


class SmtpConnection:
    """A logged-in SMTP connection, used as a context manager."""

    def __init__(self, *, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpConnection:
        s = self.settings
        password = s.password.read() if s.username else ""  # a missing secret is said before connecting
        context = ssl.create_default_context(cafile=str(s.cafile) if s.cafile else None)
        smtp: smtplib.SMTP
        if s.security == "ssl":
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
            if s.security == "starttls":
                smtp.starttls(context=context)
        try:
            if s.username:
                smtp.login(s.username, password)
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp
        return self

    def send(self, message: EmailMessage, *, recipient: str) -> None:
        """Send to exactly one envelope recipient, whatever the headers say."""
        assert self._smtp is not None
        self._smtp.send_message(message, from_addr=self.settings.sender, to_addrs=[recipient])

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None
