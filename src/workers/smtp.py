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


def build_message(
    rendered: Rendered, *, sender: str, to_address: str, to_name: str, message_id: str
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
    return message


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
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [refusal.code for refusal in exc.recipients]
        text = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        if all(400 <= code < 500 for code in codes):
            raise TransientMailError(text) from exc
        raise PermanentMailError(text) from exc
    except aiosmtplib.SMTPResponseException as exc:
        text = f"{exc.code} {exc.message}"
        if 400 <= exc.code < 500:
            raise TransientMailError(text) from exc
        raise PermanentMailError(text) from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise TransientMailError(f"{type(exc).__name__}: {exc}") from exc
    return str(reply)


def send_message(target: SmtpTarget, message: email.message.EmailMessage) -> str:
    """Send one message; returns the server's reply. Raises Transient/PermanentMailError."""
    return asyncio.run(_send(target, message))
