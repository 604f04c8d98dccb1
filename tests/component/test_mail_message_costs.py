"""What a mail message costs besides its mails: a worker thread keeps its
SMTP connection between messages (workers.smtp_keep), and a single mail
starts no helper thread to compose it. Reminder runs sent one after another
on this thread, to the real SMTP sink, SQLite underneath."""

from __future__ import annotations

import asyncio
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from rollcall.config.smtp_target import SmtpTarget
from rollcall.domain.reminders.runs import record_due_reminders
from rollcall.workers import mail_run, smtp_keep
from rollcall.workers.smtp import Flattened, SmtpConnection
from tests.support.reminders import mails, reminded_event
from tests.support.stack import Stack

START = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
MOMENT = START - timedelta(minutes=1440)


def a_run_to(stack: Stack, *people: str) -> uuid.UUID:
    """A new event with a reminder due at MOMENT, these people enrolled; its
    run recorded as the scheduler's tick would."""
    reminded_event(
        stack,
        stack.key(),
        ref=f"ev-{uuid.uuid4().hex[:8]}",
        starts_at=START,
        hours=1,
        before_minutes=1440,
        people=[(p, p.title()) for p in people],
        enrolled_at=MOMENT - timedelta(days=1),
    )
    with stack.db() as session:
        (run,) = record_due_reminders(session, now=MOMENT, grace=timedelta(hours=1))
        return run.id


def send(stack: Stack, run_id: uuid.UUID) -> mail_run.RunReport:
    return mail_run.send_reminder_run(
        stack.sessions, stack.settings, stack.broker, run_id, now=lambda: MOMENT
    )


def sent_states(stack: Stack) -> list[str]:
    with stack.db() as session:
        return sorted(m.state for m in mails(session))


def test_messages_one_after_another_on_a_thread_share_one_connection(
    component_stack: Stack,
) -> None:
    # Given two runs, sent one after the other by the same thread
    first, second = a_run_to(component_stack, "ada", "bob"), a_run_to(component_stack, "cat")
    send(component_stack, first)
    send(component_stack, second)

    # Then the three mails arrived over one connection, which is still open
    assert len(component_stack.sink.messages) == 3
    assert component_stack.sink.connections() == 1
    assert component_stack.sink.quits == []
    assert sent_states(component_stack) == ["sent"] * 3

    # And the thread's end says QUIT on it
    smtp_keep.close_kept_smtp()
    assert component_stack.sink.quits == component_stack.sink.peers[:1]


def test_a_connection_the_server_closed_while_idle_is_not_used(component_stack: Stack) -> None:
    # Given a kept connection, and the server restarted meanwhile (which closes it)
    send(component_stack, a_run_to(component_stack, "ada"))
    component_stack.sink.restart()

    # When the next message's mail goes out
    report = send(component_stack, a_run_to(component_stack, "bob"))

    # Then it went over a new connection at once: not put to retry as a
    # connection failure
    assert (report.sent, report.retrying, report.retry_ids) == (1, 0, [])
    assert len(component_stack.sink.messages) == 2
    assert component_stack.sink.connections() == 2
    assert sent_states(component_stack) == ["sent", "sent"]


def test_a_connection_idle_past_the_keep_alive_is_ended_and_a_new_one_opened(
    component_stack: Stack,
) -> None:
    component_stack.settings.smtp_keep_alive_seconds = 10
    clock = {"now": 0.0}
    target = SmtpTarget.from_url(component_stack.settings.smtp_url)
    smtp_keep.kept_smtp(target, 10).clock = lambda: clock["now"]

    send(component_stack, a_run_to(component_stack, "ada"))
    clock["now"] += 10  # idle exactly the keep-alive: kept
    send(component_stack, a_run_to(component_stack, "bob"))
    assert component_stack.sink.connections() == 1

    clock["now"] += 10.5  # idle longer: QUIT, and a new connection
    send(component_stack, a_run_to(component_stack, "cat"))
    assert component_stack.sink.connections() == 2
    assert component_stack.sink.quits == component_stack.sink.peers[:1]


def test_a_keep_alive_of_zero_ends_each_message_s_connection(component_stack: Stack) -> None:
    component_stack.settings.smtp_keep_alive_seconds = 0
    send(component_stack, a_run_to(component_stack, "ada"))
    send(component_stack, a_run_to(component_stack, "bob"))

    assert component_stack.sink.connections() == 2
    assert sorted(component_stack.sink.quits) == sorted(component_stack.sink.peers)


def test_a_message_that_failed_leaves_no_connection_to_reuse(
    component_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a run that fails part way (its thread stopped between two mails)
    send(component_stack, a_run_to(component_stack, "ada"))
    real_record = mail_run._record_and_claim

    def failing(*args: object, **kwargs: object) -> int | None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(mail_run, "_record_and_claim", failing)
    failed = a_run_to(component_stack, "bob")
    with pytest.raises(RuntimeError):
        send(component_stack, failed)
    monkeypatch.setattr(mail_run, "_record_and_claim", real_record)

    # When the run is sent again
    send(component_stack, failed)

    # Then it went over a new connection: the old one, whose state was not
    # known, was dropped, not reused
    assert len(component_stack.sink.messages) == 2
    assert component_stack.sink.connections() == 2
    assert sent_states(component_stack) == ["sent", "sent"]


def test_each_thread_keeps_its_own_connection(component_stack: Stack) -> None:
    target = SmtpTarget.from_url(component_stack.settings.smtp_url)
    here = smtp_keep.kept_smtp(target, 10)
    there: list[smtp_keep.KeptSmtp] = []
    thread = threading.Thread(target=lambda: there.append(smtp_keep.kept_smtp(target, 10)))
    thread.start()
    thread.join()

    assert smtp_keep.kept_smtp(target, 10) is here
    assert there and there[0] is not here
    # Another target (the settings changed) replaces this thread's
    other = SmtpTarget(hostname="127.0.0.1", port=target.port + 1)
    assert smtp_keep.kept_smtp(other, 10) is not here


def test_a_kept_connection_sees_the_server_s_goodbye_before_it_sends(
    component_stack: Stack,
) -> None:
    # The run above awaits its composed mail before each send, which lets the
    # loop read the goodbye; a send on its own must see it as well.
    sink = component_stack.sink
    connection = SmtpConnection(SmtpTarget.from_url(component_stack.settings.smtp_url))
    mail = Flattened("from@example.org", ("to@example.org",), b"Subject: kept\r\n\r\nhello\r\n")
    with asyncio.Runner() as runner:
        runner.run(connection.send(mail))
        sink.restart()
        runner.run(connection.send(mail))
        runner.run(connection.close())

    assert len(sink.messages) == 2
    assert sink.connections() == 2


def test_a_single_mail_is_composed_by_its_sender_a_window_of_more_ahead_by_a_helper(
    component_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[str] = []

    def counted(*, max_workers: int, thread_name_prefix: str) -> ThreadPoolExecutor:
        started.append(thread_name_prefix)
        return ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=thread_name_prefix)

    monkeypatch.setattr(mail_run, "ThreadPoolExecutor", counted)
    send(component_stack, a_run_to(component_stack, "ada"))
    assert started == []  # one mail: nothing to compose ahead of
    send(component_stack, a_run_to(component_stack, "bob", "cat", "dan"))
    assert len(started) == 1
    assert len(component_stack.sink.messages) == 4
    assert sent_states(component_stack) == ["sent"] * 4
