"""The POST-to-mail benchmark's baseline worker: one bare Dramatiq actor on
Rollcall's broker settings that builds one mail (text and HTML, as Rollcall's
confirmation is built: ``workers.smtp.build_message``) and sends it over its
own SMTP connection, with no database.

    dramatiq bench.bare_mail_actor --processes 1 --threads 8 --skip-logging
"""

from __future__ import annotations

import asyncio
import uuid

import aiosmtplib
import dramatiq

from bench.bench_e2e import ACTOR_NAME, QUEUE
from rollcall.config.logs import configure_logging
from rollcall.config.settings import get_settings
from rollcall.messaging.broker import configure_broker
from rollcall.workers.mail_render import Rendered
from rollcall.workers.smtp import build_message

_settings = get_settings()
broker = configure_broker(_settings)
configure_logging(_settings.log_level, _settings.log_json)

TEXT = "You are enrolled in E2E.\n\n" + "Details of the event and how to cancel.\n" * 20
HTML = "<html><body><p>You are enrolled in E2E.</p>" + "<p>Details.</p>" * 40 + "</body></html>"


def _host_port() -> tuple[str, int]:
    host, port = str(_settings.smtp_url).removeprefix("smtp://").split(":")
    return host, int(port.split("/")[0])


@dramatiq.actor(broker=broker, queue_name=QUEUE, actor_name=ACTOR_NAME, max_retries=0)
def send_one(to_address: str) -> None:
    host, port = _host_port()
    message = build_message(
        Rendered(subject="You are enrolled: E2E", text=TEXT, html=HTML),
        sender="rollcall@example.org",
        to_address=to_address,
        to_name="E2E",
        message_id=f"<{uuid.uuid4()}@bench>",
    )
    asyncio.run(aiosmtplib.send(message, hostname=host, port=port, timeout=30))
