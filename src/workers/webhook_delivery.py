"""Sending one webhook delivery: claim in order, resolve and check, sign, POST, record.

The claim commits before any byte leaves (domain.webhooks.deliveries), so two
workers never send the same delivery at once; a worker killed mid-delivery
leaves it claimed, and past its lease it is sent again with the same
``webhook-id`` (a receiver dedupes by it). The host is resolved here, at each
attempt, and every address checked (domain.webhooks.targets); the request goes
to the address checked, never to a second lookup, so DNS rebinding cannot
slip a private address in between.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook

from rollcall.config.settings import Settings
from rollcall.domain.errors.webhooks import WebhookTargetBlocked, WebhookUrlInvalid
from rollcall.domain.jobs.outbox import WrittenMessage, take_written
from rollcall.domain.webhooks.deliveries import (
    AttemptResult,
    Claimed,
    NotNow,
    claim_delivery,
    record_attempt,
)
from rollcall.domain.webhooks.policy import RetryPolicy
from rollcall.domain.webhooks.targets import Address, check_addresses, parse_url

logger = logging.getLogger("rollcall.webhooks")

#: Characters of the receiver's answer kept with the attempt.
EXCERPT_CHARS = 200
USER_AGENT = "Rollcall-Webhooks/1"


@dataclass(frozen=True)
class Sent:
    """The outcome of one call: the delivery's new state, when to look again,
    and the outbox rows it committed (as written, for dispatch_written)."""

    state: str
    retry_in_ms: int | None
    written: list[WrittenMessage]


def policy_of(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        base_ms=settings.webhook_retry_base_ms,
        max_ms=settings.webhook_retry_max_ms,
        window=timedelta(seconds=settings.webhook_retry_window_seconds),
    )


def resolve(host: str, port: int) -> list[Address]:
    """Every address of ``host`` (raises OSError when it does not resolve)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))


def sign(secret: str, webhook_id: str, body: str, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers for ``body`` sent at ``at``."""
    signature = Webhook(secret).sign(msg_id=webhook_id, timestamp=at, data=body)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def attempt(claimed: Claimed, settings: Settings, *, now: datetime) -> AttemptResult:
    """One POST; never raises (a refusal, timeout or error is the result)."""
    started = time.monotonic()

    def result(status: int | None, error: str | None, excerpt: str = "") -> AttemptResult:
        return AttemptResult(status, error, excerpt, int((time.monotonic() - started) * 1000))

    try:
        scheme, host, port = parse_url(claimed.url)
        addresses = resolve(host, port)
        if not addresses:
            return result(None, f"{host} has no address")
        check_addresses(host, addresses, allow_private=settings.webhook_allow_private_targets)
    except (WebhookUrlInvalid, WebhookTargetBlocked) as refusal:
        return result(None, refusal.message)
    except OSError as error:
        return result(None, f"cannot resolve {host}: {error}")
    body = json.dumps(claimed.payload, separators=(",", ":"), ensure_ascii=False)
    headers = sign(claimed.secret, claimed.webhook_id, body, now)
    try:
        # Connect to the address just checked; the name goes in Host and TLS SNI.
        url = httpx.URL(claimed.url)
        headers["host"] = url.netloc.decode("ascii")
        pinned = url.copy_with(host=str(addresses[0]))
        extensions = {"sni_hostname": url.host} if scheme == "https" else {}
        with httpx.Client(
            timeout=settings.webhook_timeout_seconds, follow_redirects=False, trust_env=False
        ) as client:
            response = client.post(
                pinned, content=body.encode(), headers=headers, extensions=extensions
            )
    except httpx.TimeoutException:
        return result(None, f"no answer within {settings.webhook_timeout_seconds:g} s")
    except Exception as error:
        # A connection error, or a URL httpx cannot use: a failed attempt, never a crash.
        return result(None, f"{type(error).__name__}: {error}"[:300])
    return result(response.status_code, None, response.text[:EXCERPT_CHARS])


def deliver_webhook(
    factory: sessionmaker[Session],
    settings: Settings,
    delivery_id: uuid.UUID,
    *,
    now: Callable[[], datetime],
) -> Sent:
    """Attempt the delivery once if its turn has come; returns what became of it
    and the outbox rows to dispatch (the next delivery, woken)."""
    with factory() as session, session.begin():
        claimed = claim_delivery(
            session, delivery_id, now=now(), lease_seconds=settings.webhook_lease_seconds
        )
    if isinstance(claimed, NotNow):
        return Sent(claimed.why, claimed.retry_in_ms, [])
    outcome = attempt(claimed, settings, now=now())
    with factory() as session, session.begin():
        state, delay = record_attempt(
            session,
            claimed.seq,
            outcome,
            now=now(),
            policy=policy_of(settings),
            disable_after=settings.webhook_disable_after_failures,
        )
        written = take_written(session)
    log = logger.info if state == "succeeded" else logger.warning
    log(
        "webhook %s",
        state,
        extra={
            "webhook_id": claimed.webhook_id,
            "attempt": claimed.attempts,
            "status": outcome.status_code,
            "error": outcome.error,
            "duration_ms": outcome.duration_ms,
        },
    )
    return Sent(state, delay, written)
