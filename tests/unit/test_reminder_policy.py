"""Pure reminder and retry policies, table-tested."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollcall.config.settings import Settings
from rollcall.domain.reminders.runs import reminder_moment, run_decision, send_deadline
from rollcall.workers.mail_delivery import retry_delay_ms

START = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
END = datetime(2027, 3, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "before", "after", "expected"),
    [
        ("before", 1440, None, datetime(2027, 3, 1, 9, 0, tzinfo=UTC)),
        ("before", 0, None, START),
        ("before", None, 60, None),
        ("after", None, 60, datetime(2027, 3, 2, 13, 0, tzinfo=UTC)),
        ("after", 1440, None, None),
        ("adhoc", 1440, 60, None),
    ],
)
def test_reminder_moment(
    kind: str, before: int | None, after: int | None, expected: datetime | None
) -> None:
    moment = reminder_moment(
        kind, starts_at=START, ends_at=END, before_minutes=before, after_minutes=after
    )
    assert moment == expected


GRACE = timedelta(minutes=60)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (START - timedelta(microseconds=1), "wait"),
        (START - timedelta(seconds=59), "wait"),
        (START, "send"),  # the minute boundary itself is due
        (START + timedelta(seconds=1), "send"),
        (START + GRACE, "send"),
        (START + GRACE + timedelta(microseconds=1), "missed"),
        (START + timedelta(days=1), "missed"),
    ],
)
def test_run_decision(now: datetime, expected: str) -> None:
    assert run_decision(START, now=now, grace=GRACE) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (START - timedelta(minutes=30), "send"),  # within the grace, before the start
        (START - timedelta(microseconds=1), "send"),
        (START, "missed"),  # within the grace, but the occurrence has started
        (START + timedelta(minutes=10), "missed"),
    ],
)
def test_a_before_reminder_is_never_sent_from_its_start_on(now: datetime, expected: str) -> None:
    # Issue 14: due 40 minutes before the start, found late but within a 60-minute grace
    due = START - timedelta(minutes=40)
    deadline = send_deadline("before", starts_at=START)
    assert run_decision(due, now=now, grace=GRACE, deadline=deadline) == expected
    assert send_deadline("after", starts_at=START) is None


@pytest.mark.parametrize(
    ("attempts", "delay"),
    [(1, 5_000), (2, 10_000), (3, 20_000), (8, 640_000), (9, 900_000), (30, 900_000)],
)
def test_retry_backoff_is_exponential_and_capped(attempts: int, delay: int) -> None:
    settings = Settings(mail_retry_base_ms=5_000, mail_retry_max_ms=900_000)
    assert retry_delay_ms(settings, attempts) == delay


# Header injection ---------------------------------------------------------------


def _build(**overrides: str) -> bytes:
    from rollcall.workers.mail_render import Rendered
    from rollcall.workers.smtp import build_message

    fields = {"to_name": "Ada", "to_address": "ada@example.org", "subject": "Hello"} | overrides
    message = build_message(
        Rendered(subject=fields["subject"], text="text", html="<p>html</p>"),
        sender="Rollcall <no-reply@rollcall.localhost>",
        to_address=fields["to_address"],
        to_name=fields["to_name"],
        message_id="<1@rollcall.localhost>",
    )
    return message.as_bytes()


def test_a_name_cannot_inject_a_header() -> None:
    raw = _build(to_name="Eve\r\nBcc: mallory@evil.example")
    headers = raw.split(b"\n\n", 1)[0]
    assert b"\nBcc:" not in headers
    assert b'To: "Eve Bcc: mallory@evil.example" <ada@example.org>' in headers


@pytest.mark.parametrize(
    "overrides",
    [
        {"subject": "Hi\r\nBcc: mallory@evil.example"},
        {"to_address": "ada@example.org\r\nBcc: mallory@evil.example"},
        {"to_address": "ada@example.org, mallory@evil.example"},
        {"to_address": "no-at-sign"},
    ],
)
def test_a_header_with_a_line_break_or_a_second_address_is_refused(
    overrides: dict[str, str],
) -> None:
    with pytest.raises(ValueError):
        _build(**overrides)


def test_non_ascii_names_and_subjects_are_encoded() -> None:
    from email import message_from_bytes, policy

    parsed = message_from_bytes(_build(to_name="Zoë Ŝ", subject="Café ☕"), policy=policy.default)
    assert parsed["Subject"] == "Café ☕"
    assert parsed["To"].addresses[0].display_name == "Zoë Ŝ"


@given(text=st.text(), html=st.text())
@settings(max_examples=60)
def test_a_given_boundary_never_collides_with_a_part(text: str, html: str) -> None:
    """build_message names its boundaries (the generator then never searches
    for one), and no body can contain them: parts are base64, with no ``_``."""
    from email import message_from_bytes, policy

    from rollcall.workers.mail_render import Rendered
    from rollcall.workers.smtp import Attachment, build_message

    invite = Attachment("invite.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text", "calendar")
    message = build_message(
        Rendered(subject="Hello", text=text, html=html),
        sender="Rollcall <no-reply@rollcall.localhost>",
        to_address="ada@example.org",
        to_name="Ada",
        message_id="<1@rollcall.localhost>",
        attachments=(invite,),
    )
    boundaries = [part.get_boundary() for part in message.walk() if part.is_multipart()]
    assert len(boundaries) == 2 and all(b and b.startswith("=_rollcall_") for b in boundaries)

    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    bodies = [p.get_content() for p in parsed.walk() if p.get_content_maintype() == "text"]
    assert bodies[:2] == [text, html]


@given(
    name=st.sampled_from(["Subject", "To", "Content-Type", "X-A"]),
    value=st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=120),
)
@settings(max_examples=400)
def test_the_header_shortcut_folds_as_compat32(name: str, value: str) -> None:
    """Serialising's shortcut for short ASCII headers writes what compat32's
    folding writes, for any ASCII value (control characters, runs of spaces,
    encoded-word look-alikes, at and past the line limit)."""
    from email.policy import Compat32

    from rollcall.workers.smtp import _SERIALISE

    def outcome(policy: Compat32) -> bytes | str:
        try:
            return policy.fold_binary(name, value)
        except Exception as exc:  # the same refusal, if it is one
            return type(exc).__name__

    assert outcome(_SERIALISE) == outcome(Compat32(cte_type="7bit"))


def test_a_message_serialises_to_aiosmtplibs_bytes() -> None:
    """flatten's own generator gives the bytes aiosmtplib's flatten_message
    gives (compat32, 7bit), for a message with an attachment and a non-ASCII
    name and subject."""
    import aiosmtplib.email

    from rollcall.workers.mail_render import Rendered
    from rollcall.workers.smtp import Attachment, Flattened, build_message, flatten

    message = build_message(
        Rendered(subject="Rappel : séance de poterie", text="À demain", html="<p>À demain</p>"),
        sender="Rollcall <no-reply@rollcall.localhost>",
        to_address="ada@example.org",
        to_name="Adèle   Lovelace",
        message_id="<1@rollcall.localhost>",
        attachments=(Attachment("invite.ics", b"BEGIN:VCALENDAR\r\n", "text", "calendar"),),
    )
    flat = flatten(message)
    assert isinstance(flat, Flattened)
    assert flat.data == aiosmtplib.email.flatten_message(message, utf8=False, cte_type="7bit")
