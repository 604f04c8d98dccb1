"""Sending is I/O: build a MIME message from a Rendered value and hand it to SMTP.

Replies are sorted into retry (4xx, connection trouble) and give-up (5xx).
"""

from __future__ import annotations

import asyncio
import email.message
import email.utils
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from workers.mail_render import Rendered


@dataclass(frozen=True)
class SmtpTarget:
    hostname: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    start_tls: bool | None = False

    @classmethod
    def from_url(cls, url: str) -> SmtpTarget:
        """``smtp://user:pass@host:port`` (``?starttls=1``) or ``smtps://`` for TLS."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"SMTP_URL must start with smtp:// or smtps://, not {url!r}")
        query = parse_qs(parts.query)
        tls = parts.scheme == "smtps"
        return cls(
            hostname=parts.hostname or "127.0.0.1",
            port=parts.port or (465 if tls else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=tls,
            start_tls=query.get("starttls", ["0"])[0] in ("1", "true"),
        )


class TransientMailError(Exception):
    """The server or the network said "try later"."""


class PermanentMailError(Exception):
    """The server refused the message for good."""


class ConnectionMailError(TransientMailError):
    """The connection could not be made or broke: retry, on a new connection."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str
    subtype: str
    params: tuple[tuple[str, str], ...] = ()


def build_message(
    rendered: Rendered,
    *,
    sender: str,
    to_address: str,
    to_name: str,
    message_id: str,
    attachments: tuple[Attachment, ...] = (),
) -> email.message.EmailMessage:
    message = email.message.EmailMessage()
    # formataddr quotes and encodes the display name; the policy refuses CR/LF
    # in any header, so a name or subject cannot inject headers.
    message["From"] = sender
    message["To"] = email.utils.formataddr((" ".join(to_name.split()), to_address))
    message["Subject"] = rendered.subject
    message["Message-ID"] = message_id
    message["Date"] = email.utils.formatdate(localtime=False)
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    for item in attachments:
        message.add_attachment(
            item.content,
            maintype=item.maintype,
            subtype=item.subtype,
            filename=item.filename,
            params=dict(item.params),
        )
    return message


def classify(exc: BaseException) -> TransientMailError | PermanentMailError:
    """Sort an aiosmtplib/network exception into retry (4xx, connection
    trouble) or give up (5xx); the server's reply is kept as the message."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [refusal.code for refusal in exc.recipients]
        text = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        if all(400 <= code < 500 for code in codes):
            return TransientMailError(text)
        return PermanentMailError(text)
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return ConnectionMailError(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        text = f"{exc.code} {exc.message}"
        if 400 <= exc.code < 500:
            return TransientMailError(text)
        return PermanentMailError(text)
    return ConnectionMailError(f"{type(exc).__name__}: {exc}")


SMTP_ERRORS = (aiosmtplib.SMTPException, OSError, TimeoutError)


async def _send(target: SmtpTarget, message: email.message.EmailMessage) -> str:
    try:
        _errors, reply = await aiosmtplib.send(
            message,
            hostname=target.hostname,
            port=target.port,
            username=target.username,
            password=target.password,
            use_tls=target.use_tls,
            start_tls=target.start_tls,
            timeout=30,
        )
    except SMTP_ERRORS as exc:
        raise classify(exc) from exc
    return str(reply)


class SmtpConnection:
    """One SMTP connection reused for many messages (a reminder run).

    Connects lazily; after a connection-level failure the next ``send``
    reconnects. Raises TransientMailError (ConnectionMailError when the
    connection itself broke) or PermanentMailError per message.
    """

    def __init__(self, target: SmtpTarget) -> None:
        self.target = target
        self._client: aiosmtplib.SMTP | None = None

    async def send(self, message: email.message.EmailMessage) -> str:
        try:
            if self._client is None or not self._client.is_connected:
                self._client = aiosmtplib.SMTP(
                    hostname=self.target.hostname,
                    port=self.target.port,
                    username=self.target.username,
                    password=self.target.password,
                    use_tls=self.target.use_tls,
                    start_tls=self.target.start_tls,
                    timeout=30,
                )
                await self._client.connect()
            _errors, reply = await self._client.send_message(message)
        except SMTP_ERRORS as exc:
            error = classify(exc)
            if isinstance(error, ConnectionMailError):
                await self.close()
            raise error from exc
        return str(reply)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if client.is_connected:
                await client.quit()
        except SMTP_ERRORS:
            client.close()


def send_message(target: SmtpTarget, message: email.message.EmailMessage) -> str:
    """Send one message; returns the server's reply. Raises Transient/PermanentMailError."""
    return asyncio.run(_send(target, message))
