"""A few placements' mails go out from the job thread that committed them
(workers.mail_inline): no message waits in the mail queue for them, and their
outbox row is marked done. A bigger group, or any failure, goes through the
mail queue as before, and a failure pauses the inline sends.

The worker is stopped: each test runs the messages itself, so what went to the
broker can be seen."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from rollcall.domain.jobs import actor_names
from rollcall.models import OutboxMessage
from rollcall.workers import actors, mail_inline
from tests.support.factories import enroll, published_event
from tests.support.services import free_port
from tests.support.stack import Stack


@pytest.fixture
def stack(component_stack: Stack) -> Iterator[Stack]:
    component_stack.stop()
    yield component_stack
    mail_inline.resume()


def use(stack: Stack, **settings: object) -> None:
    actors.configure(stack.settings.model_copy(update=settings))


def queued(stack: Stack, queue: str) -> list[dict[str, object]]:
    """The messages waiting in ``queue``, taken out of it."""
    waiting = stack.broker.queues[queue]  # type: ignore[attr-defined]
    taken = []
    while not waiting.empty():
        taken.append(json.loads(waiting.get_nowait()))
        waiting.task_done()
    return taken


def apply_jobs(stack: Stack) -> None:
    for message in queued(stack, "jobs"):
        assert message["actor_name"] == actor_names.PROCESS_JOB
        actors.process_job.fn(*message["args"])  # type: ignore[arg-type]


def send_queued_mail(stack: Stack) -> int:
    messages = queued(stack, "mail")
    for message in messages:
        assert message["actor_name"] == actor_names.SEND_PLACEMENT_MAILS
        actors.send_placement_mails.fn(*message["args"])  # type: ignore[arg-type]
    return len(messages)


def placement_rows(stack: Stack) -> list[OutboxMessage]:
    with stack.db() as session:
        return list(
            session.scalars(
                select(OutboxMessage).where(OutboxMessage.actor == actor_names.SEND_PLACEMENT_MAILS)
            )
        )


def test_a_small_groups_mail_leaves_from_the_job_thread(stack: Stack) -> None:
    # Given an enroll job accepted for an event
    key = stack.key()
    published_event(stack, key, ref="inline", max_subscriptions=10)
    enroll(stack, key, "inline", "ada")

    # When its message is processed
    apply_jobs(stack)

    # Then the confirmation is already in the sink, nothing waits in the mail
    # queue, and the placement's outbox row is done: neither the relay nor
    # the reconciler sends it
    assert stack.sink.per_recipient() == {"ada@example.org": 1}
    assert queued(stack, "mail") == []
    (row,) = placement_rows(stack)
    assert row.sent_at is not None and row.done_at is not None


def test_a_group_bigger_than_mail_inline_max_goes_through_the_mail_queue(
    stack: Stack,
) -> None:
    use(stack, mail_inline_max=1)
    key = stack.key()
    published_event(stack, key, ref="inline", max_subscriptions=10)
    enroll(stack, key, "inline", "ada")
    enroll(stack, key, "inline", "bob")

    # When one message applies both jobs (a group of two placements)
    apply_jobs(stack)

    # Then their mails wait in the mail queue, as before
    assert stack.sink.messages == []
    assert send_queued_mail(stack) == 1
    assert stack.sink.per_recipient() == {"ada@example.org": 1, "bob@example.org": 1}


def test_mail_inline_max_0_sends_every_mail_through_the_queue(stack: Stack) -> None:
    use(stack, mail_inline_max=0)
    key = stack.key()
    published_event(stack, key, ref="inline", max_subscriptions=10)
    enroll(stack, key, "inline", "ada")
    apply_jobs(stack)
    assert stack.sink.messages == []
    assert send_queued_mail(stack) == 1
    assert stack.sink.per_recipient() == {"ada@example.org": 1}


def retries(stack: Stack) -> list[str]:
    """The mail ids handed to send_email (with a delay: the delay queue)."""
    messages = queued(stack, "mail.DQ")
    assert {m["actor_name"] for m in messages} <= {actor_names.SEND_EMAIL}
    return [str(m["args"][0]) for m in messages]  # type: ignore[index]


def test_an_smtp_outage_hands_the_mail_to_send_email_and_pauses_inline_sends(
    stack: Stack,
) -> None:
    key = stack.key()
    published_event(stack, key, ref="inline", max_subscriptions=10)

    # Given no SMTP server where the settings point
    use(stack, smtp_url=f"smtp://127.0.0.1:{free_port()}")
    enroll(stack, key, "inline", "ada")

    # When the job is applied, the mail cannot go: it is retrying, handed to
    # send_email with its backoff, as the mail queue's actor would do
    apply_jobs(stack)
    assert stack.sink.messages == []
    (ada_mail,) = retries(stack)

    # And while paused, the next group's mail goes to the mail queue even
    # with the server back: a job thread tries a broken server once, not
    # once a group
    use(stack)
    enroll(stack, key, "inline", "bob")
    apply_jobs(stack)
    assert stack.sink.messages == []

    # Then the queue and the retry send each mail once
    assert send_queued_mail(stack) == 1
    actors.send_email.fn(ada_mail)
    assert stack.sink.per_recipient() == {"ada@example.org": 1, "bob@example.org": 1}

    # And once the pause is over, mail leaves from the job thread again
    mail_inline.resume()
    enroll(stack, key, "inline", "cy")
    apply_jobs(stack)
    assert stack.sink.per_recipient()["cy@example.org"] == 1
    assert queued(stack, "mail") == []


def test_an_error_out_of_the_run_hands_the_message_to_the_mail_queue(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = stack.key()
    published_event(stack, key, ref="inline", max_subscriptions=10)
    enroll(stack, key, "inline", "ada")

    # Given a run that fails outright (the database lost meanwhile, say)
    def fails(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the database went away")

    works = mail_inline.send_placement_batch
    monkeypatch.setattr(mail_inline, "send_placement_batch", fails)

    # When the job is applied, its placement message goes to the mail queue
    # and the outbox row is not done: the queue's message carries it now
    apply_jobs(stack)
    (row,) = placement_rows(stack)
    assert row.sent_at is not None and row.done_at is None
    monkeypatch.setattr(mail_inline, "send_placement_batch", works)
    mail_inline.resume()
    assert send_queued_mail(stack) == 1
    assert stack.sink.per_recipient() == {"ada@example.org": 1}
