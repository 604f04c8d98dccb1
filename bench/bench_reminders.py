"""One reminder run to N attendees against the plain way of sending the
same mails (goal, issue 19: <= 1.5x).

Both sides send the same N messages over one SMTP connection to the same
real SMTP sink (aiosmtpd in its own process, discarding mail). The run is the
whole effect: recipients materialised as EmailMessage rows, each mail rendered
(text + HTML, .ics attached), claimed, serialised, sent and recorded in
batches, logging at INFO as JSON lines. The baseline sends the N messages
already rendered, built and serialised to bytes (the strongest plain way: no
serialisation in the timed loop, which the run does in its helper thread).
Each round seeds a fresh run (not timed); sides alternate after a warm-up
each, in a scratch PostgreSQL database (bench.harness).

    python -m bench bench_reminders
    BENCH_REMINDER_RECIPIENTS=2000 BENCH_ROUNDS=5 python -m bench bench_reminders
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosmtplib
from sqlalchemy import insert, select

from bench.harness import (
    alternate,
    load_average,
    production_logging,
    ratio_line,
    scratch_database,
    smtp_sink,
    spread,
)
from rollcall.config.settings import Settings
from rollcall.domain.reminders.runs import prepare_reminder_run, record_due_reminders
from rollcall.messaging.broker import make_broker
from rollcall.models import (
    Attendee,
    EmailMessage,
    Enrollment,
    Event,
    Occurrence,
    Organisation,
)
from rollcall.models.db import sessions_for
from rollcall.workers.mail_delivery import Claimed, compose
from rollcall.workers.mail_run import RunReport, send_reminder_run
from rollcall.workers.smtp import Flattened, flatten

RECIPIENTS = int(os.environ.get("BENCH_REMINDER_RECIPIENTS", "10000"))
START = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
MOMENT = START - timedelta(minutes=1440)


def _seed(settings: Settings, recipients: int) -> uuid.UUID:
    """An event due at MOMENT with ``recipients`` people enrolled; returns the run id."""
    factory = sessions_for(settings.database_url)
    with factory() as session, session.begin():
        org = Organisation(name=f"bench-{uuid.uuid4().hex[:6]}", created_at=MOMENT)
        session.add(org)
        session.flush()
        event = Event(
            organisation_id=org.id,
            name="Benchmark reminders",
            timezone="Europe/Amsterdam",
            status="published",
            starts_at=START,
            ends_at=START + timedelta(hours=2),
            reminder_before_minutes=1440,
            description="A <b>run</b> of reminders.",
            settings={},
            enrolled_count=recipients,
            waitlisted_count=0,
            created_at=MOMENT,
            updated_at=MOMENT,
        )
        session.add(event)
        session.flush()
        session.add(
            Occurrence(
                event_id=event.id,
                starts_at=START,
                ends_at=event.ends_at,
                cancelled=False,
                enrolled_count=0,
                waitlisted_count=0,
            )
        )
        stamp = MOMENT - timedelta(days=1)
        people = [uuid.uuid4() for _ in range(recipients)]
        for chunk in range(0, recipients, 2000):
            ids = people[chunk : chunk + 2000]
            session.execute(
                insert(Attendee),
                [
                    {
                        "id": a,
                        "organisation_id": org.id,
                        "ref": f"p{chunk + i}",
                        "email": f"p{chunk + i}@example.org",
                        "name": f"Person {chunk + i}",
                        "created_at": stamp,
                        "updated_at": stamp,
                    }
                    for i, a in enumerate(ids)
                ],
            )
            session.execute(
                insert(Enrollment),
                [
                    {
                        "organisation_id": org.id,
                        "event_id": event.id,
                        "attendee_id": a,
                        "scope_key": "event",
                        "status": "enrolled",
                        "requested_at": stamp,
                        "request_seq": 0,
                        "enrolled_at": stamp,
                        "created_at": stamp,
                        "updated_at": stamp,
                    }
                    for a in ids
                ],
            )
        (run,) = record_due_reminders(session, now=MOMENT, grace=timedelta(hours=1))
        return run.id


def _prerendered(settings: Settings, run_id: uuid.UUID) -> list[object]:
    """The same mails the run sent, rendered and built up front (not timed)."""
    with sessions_for(settings.database_url)() as session:
        rows = session.scalars(select(EmailMessage).where(EmailMessage.run_id == run_id)).all()
        return [
            compose(
                settings,
                Claimed(
                    id=row.id,
                    organisation_id=row.organisation_id,
                    template=row.template,
                    context=dict(row.context),
                    to_address=row.to_address,
                    to_name=row.to_name,
                    message_id=row.message_id or f"<{row.id}@bench>",
                    attempts=1,
                ),
                now=MOMENT,
            )
            for row in rows
        ]


async def _plain_loop(port: int, messages: list[object]) -> None:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=30)
    await client.connect()
    for message in messages:
        if isinstance(message, Flattened):
            await client.sendmail(message.sender, list(message.recipients), message.data)
        else:
            await client.send_message(message)  # type: ignore[arg-type]
    await client.quit()


def _timed(work: Callable[[], object]) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def main() -> None:
    print(load_average())
    logs = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    production_logging(logs / "bench.log")
    with scratch_database("reminders") as url, smtp_sink() as smtp_url:
        port = int(smtp_url.rsplit(":", 1)[1])
        settings = Settings(database_url=url, redis_url="stub://", smtp_url=smtp_url)
        sent: list[int] = []

        def pipeline() -> float:
            run_id = _seed(settings, RECIPIENTS)  # not timed
            report: list[RunReport] = []
            seconds = _timed(
                lambda: report.append(
                    send_reminder_run(
                        sessions_for(url),
                        settings,
                        make_broker(settings),
                        run_id,
                        now=lambda: MOMENT,
                    )
                )
            )
            sent.append(report[0].sent)
            return seconds

        def plain() -> float:
            # The same mails, rendered, built and serialised up front (not timed).
            twin_id = _seed(settings, RECIPIENTS)
            with sessions_for(url)() as session, session.begin():
                prepare_reminder_run(session, run_id=twin_id, now=MOMENT)
            flat = [flatten(message) for message in _prerendered(settings, twin_id)]  # type: ignore[arg-type]
            return _timed(lambda: asyncio.run(_plain_loop(port, flat)))

        times = alternate({"run": pipeline, "plain": plain})
        assert set(sent) == {RECIPIENTS}, sent
    print(f"recipients per round: {RECIPIENTS} (PostgreSQL)")
    print(f"plain loop of pre-serialised bytes, one connection: {spread(times['plain'])} s")
    print(f"reminder run (materialise, render, send, record):   {spread(times['run'])} s")
    print(ratio_line("reminder run vs plain loop", times["run"], times["plain"], "<= 1.5x"))
    print(f"log: {logs / 'bench.log'}")
    print(load_average())


if __name__ == "__main__":
    main()
