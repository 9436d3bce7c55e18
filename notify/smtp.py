"""The one seam over smtplib: connect (ssl, starttls or none), log in, send to explicit recipients."""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType


class MissingSecret(LookupError):
    """A password the configuration points at is not there; the text names where it looked."""


@dataclass(frozen=True, kw_only=True)
class Secret:
    """Where a password comes from: an environment variable or a file, never the config file."""

    env: str | None = None
    file: Path | None = None

    def read(self) -> str:
        if self.file is not None:
            try:
                return self.file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise MissingSecret(f"password_file: cannot read {self.file}: {exc.strerror}") from exc
        if self.env is not None:
            value = os.environ.get(self.env)
            if value is None:
                raise MissingSecret(f"password_env: the environment variable {self.env} is not set")
            return value
        return ""


@dataclass(frozen=True, kw_only=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # ssl | starttls | none
    username: str
    password: Secret
    sender: str
    max_attempts: int = 8
    retry_seconds: int = 60
    timeout_seconds: float = 30.0
    cafile: Path | None = None


class SmtpConnection:
    """A logged-in SMTP connection, used as a context manager."""

    def __init__(self, *, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpConnection:
        s = self.settings
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
                smtp.login(s.username, s.password.read())
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
