"""Mail order on real parts (issue 14 #8): for one attendee and event, mails
leave in the order of the changes that caused them.

A bulk enrollment's confirmations are written and sent by the mail worker
after commit, over one SMTP connection; a removal's mail goes out through
``send_email`` on another worker thread. Removing everybody at once used to
let many a removal overtake its confirmation. PostgreSQL, Redis, the SMTP
sink, the API over HTTP and a ``dramatiq`` worker process.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.factories import job, published_event
from tests.support.faults import LiveStack, WorkerProcess
from tests.support.services import RedisServer, SmtpSink
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

PEOPLE = 40


def subjects_by_recipient(sink: SmtpSink) -> dict[str, list[str]]:
    """Each recipient's subjects, in the order the sink received them."""
    found: dict[str, list[str]] = {}
    for message in list(sink.messages):
        found.setdefault(message["To"].addresses[0].addr_spec, []).append(message["Subject"])
    return found


def test_a_removal_never_overtakes_the_confirmation_of_a_bulk_enrollment(
    live: LiveStack, redis_server: RedisServer, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    with live(redis_url=redis_server.url) as stack:
        smtp_sink.delay = 0.02  # the bulk's mails take a while over their one connection
        worker = WorkerProcess(stack.settings, tmp_path / "worker.log").start(threads=4)
        try:
            key = stack.key()
            published_event(stack, key, ref="order", max_subscriptions=PEOPLE)
            # Given a bulk enrollment of 40 people, applied
            refs = [f"p{n}" for n in range(PEOPLE)]
            body = {"attendees": [{"ref": r, "email": f"{r}@example.org"} for r in refs]}
            response = stack.client.post(
                "/v1/events/order/enrollments/bulk", json=body, headers=stack.auth(key)
            )
            assert response.status_code == 202, response.text
            bulk = response.json()["id"]
            wait_until(
                lambda: job(stack, key, bulk)["status"] == "succeeded",
                timeout=60,
                what="the bulk job",
            )

            # When every one of them is removed at once, while their confirmations go out
            removals = []
            for ref in refs:
                response = stack.client.delete(
                    f"/v1/events/order/attendees/{ref}", headers=stack.auth(key)
                )
                assert response.status_code == 202, response.text
                removals.append(response.json()["id"])
            wait_until(
                lambda: len(smtp_sink.messages) >= 2 * PEOPLE,
                timeout=120,
                what="the confirmations and the removals",
                meanwhile=worker.tail,
            )

            # Then each got both mails, the confirmation first
            assert all(job(stack, key, r)["status"] == "succeeded" for r in removals)
            confirmed = "You are enrolled: Intro to Rollcall"
            removed = "You were removed from Intro to Rollcall"
            got = subjects_by_recipient(smtp_sink)
            assert sorted(got) == sorted(f"{r}@example.org" for r in refs)
            out_of_order = {who: s for who, s in got.items() if s != [confirmed, removed]}
            assert out_of_order == {}
        finally:
            worker.stop()
