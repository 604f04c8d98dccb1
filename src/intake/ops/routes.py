"""The dashboard's pages. Thin: read through domain.ops.views and the queue
inspector, steer through domain functions, redirect after every POST."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import FileSystemLoader

from rollcall.config.settings import Settings
from rollcall.config.templating import make_environment
from rollcall.domain.access.dashboard_sessions import (
    end_dashboard_session,
    start_dashboard_session,
)
from rollcall.domain.bounds import moment_problem
from rollcall.domain.clock import utcnow
from rollcall.domain.errors import Invalid, RollcallError
from rollcall.domain.errors.access import InvalidApiKey
from rollcall.domain.errors.ops import DeadLetterNotFound
from rollcall.domain.jobs import actor_names
from rollcall.domain.jobs.dead_letters import reopen_for_requeue
from rollcall.domain.jobs.outbox import add_message, take_pending
from rollcall.domain.ops import views
from rollcall.domain.ops import webhooks as webhook_views
from rollcall.domain.webhooks.deliveries import redeliver
from rollcall.domain.webhooks.subscriptions import get_subscription, update_subscription
from rollcall.intake.deps import AppSettings, DbSession, api_keys_of
from rollcall.intake.fields import Ref, Text
from rollcall.intake.ops.csrf import CSRF_FIELD, issue_token, set_csrf_cookie, verify_csrf
from rollcall.intake.ops.graph import minute_chart
from rollcall.intake.ops.scope import visible_dead_letters
from rollcall.intake.ops.session import (
    COOKIE,
    CurrentOperator,
    Operator,
    check_ops_key,
    make_cookie,
    read_cookie,
)
from rollcall.messaging.broker import get_broker
from rollcall.messaging.outbox import dispatch
from rollcall.messaging.queue_inspect import QUEUES, DeadLetter, QueueInspector, inspector_for
from rollcall.models.db import sessions_of, transaction
from rollcall.models.jobs import JOB_STATUSES
from rollcall.models.mail import EMAIL_STATES
from rollcall.models.webhooks import DELIVERY_STATES

router = APIRouter(prefix="/ops", include_in_schema=False, dependencies=[Depends(verify_csrf)])
# Not Jinja2Templates(directory=...): that escapes only .html/.htm/.xml names,
# and these are *.html.j2.
templates = Jinja2Templates(
    env=make_environment(FileSystemLoader(Path(__file__).parent / "templates"))
)
#: A page's filter (query) parameter: it reaches SQL or the page, so bounded like any input.
Filter = Annotated[str, Text(200)]


def _page(
    request: Request, name: str, operator: Operator | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    nonce = secrets.token_urlsafe(16)
    csrf_token, new_browser = issue_token(request, settings)
    context |= {
        "nonce": nonce,
        "me": operator,
        "refresh_ms": settings.ops_refresh_seconds * 1000,
        "now": utcnow(),
        "flash": request.query_params.get("flash"),
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token,
    }
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    if new_browser:
        set_csrf_cookie(response, settings, new_browser)
    response.headers["Cache-Control"] = "no-store"
    # base-uri: an injected <base> cannot re-point the page's relative links and
    # forms; form-action: no form posts anywhere but here.
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'"
    )
    return response


def _back(path: str, flash: str | None = None, **query: Any) -> RedirectResponse:
    params = {k: v for k, v in query.items() if v} | ({"flash": flash} if flash else {})
    return RedirectResponse(f"{path}?{urlencode(params)}" if params else path, status_code=303)


def _inspector(settings: Settings) -> QueueInspector | None:
    return inspector_for(settings.redis_url, settings.redis_namespace)


# Sign-in ----------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return _page(request, "login.html.j2", None)


@router.post("/login", response_model=None)
def login(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    api_key: Annotated[str, Form()] = "",
) -> Response:
    try:
        known = api_keys_of(request).authenticate(session, api_key.strip(), now=utcnow())
        key = check_ops_key(known, now=utcnow())
    except InvalidApiKey:
        return _page(
            request,
            "login.html.j2",
            None,
            status_code=401,
            error="That key is unknown or revoked, or it lacks the ops scope.",
        )
    key_id = key.id
    session.rollback()  # the key's read ends; the sign-in is written in its own transaction
    with session.begin():
        signed_in = start_dashboard_session(
            session,
            key_id=key_id,
            now=utcnow(),
            lifetime=timedelta(hours=settings.ops_session_hours),
        )
        session_id = signed_in.id
    response = RedirectResponse("/ops", status_code=303)
    response.set_cookie(
        COOKIE,
        make_cookie(settings, session_id),
        max_age=settings.ops_session_hours * 3600,
        httponly=True,
        secure=settings.ops_cookie_secure,
        samesite="strict",
        path="/ops",
    )
    return response


@router.post("/logout")
def logout(request: Request, settings: AppSettings) -> RedirectResponse:
    """End the session on the server (the cookie, wherever copied, stops
    working), then drop the cookie."""
    session_id = read_cookie(settings, request.cookies.get(COOKIE))
    if session_id is not None:
        with transaction(sessions_of(settings)) as session:
            end_dashboard_session(session, session_id=session_id, now=utcnow())
    response = RedirectResponse("/ops/login", status_code=303)
    response.delete_cookie(COOKIE, path="/ops")
    return response


# Overview ---------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def overview(
    request: Request, me: CurrentOperator, session: DbSession, settings: AppSettings
) -> HTMLResponse:
    now = utcnow()
    series = views.jobs_per_minute(
        session, organisation_id=None if me.is_operator else me.organisation_id, now=now
    )
    context: dict[str, Any] = {
        "chart": minute_chart(series),
        "job_counts": views.job_counts(session, organisation_id=me.organisation_id),
        "mail_counts": views.mail_counts(session, organisation_id=me.organisation_id),
        "job_statuses": JOB_STATUSES,
        "mail_states": EMAIL_STATES,
    }
    inspector = _inspector(settings)
    if me.is_operator:
        context["outbox"] = views.count_unsent_outbox(session, now=now)
    if me.is_operator and inspector is not None:
        leader, ticks = inspector.scheduler()
        context |= {
            "depths": inspector.depths(),
            "workers": inspector.workers(),
            "leader": leader,
            "ticks": ticks,
        }
    return _page(request, "overview.html.j2", me, **context)


# Jobs -------------------------------------------------------------------------


@router.get("/jobs", response_class=HTMLResponse)
def jobs(
    request: Request,
    me: CurrentOperator,
    session: DbSession,
    type: Filter = "",
    status: Filter = "",
    event: Filter = "",
    day: Annotated[Filter, Query(description="YYYY-MM-DD")] = "",
) -> HTMLResponse:
    try:
        chosen_day = date.fromisoformat(day) if day else None
    except ValueError:
        chosen_day = None
    if chosen_day is not None and moment_problem(chosen_day) is not None:
        chosen_day = None  # like a day that does not parse: no filter
    filters = views.JobFilter(type or None, status or None, event or None, chosen_day)
    rows = views.list_jobs(session, organisation_id=me.organisation_id, filters=filters)
    return _page(
        request,
        "jobs.html.j2",
        me,
        jobs=rows,
        filters={"type": type, "status": status, "event": event, "day": day},
        types=views.job_types(session, organisation_id=me.organisation_id),
        statuses=JOB_STATUSES,
    )


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_detail(
    request: Request, job_id: Ref, me: CurrentOperator, session: DbSession
) -> HTMLResponse:
    job, mails = views.get_job_with_mail(session, organisation_id=me.organisation_id, job_id=job_id)
    return _page(request, "job.html.j2", me, job=job, mails=mails)


# Dead letters -----------------------------------------------------------------


def _matching(
    session: DbSession, settings: Settings, me: Operator, queue: str, actor: str, q: str
) -> list[DeadLetter]:
    inspector = _inspector(settings)
    if inspector is None:
        return []
    letters = visible_dead_letters(session, me, inspector.dead_letters())
    return [
        letter
        for letter in letters
        if (not queue or letter.queue == queue)
        and (not actor or letter.actor == actor)
        and (not q or q.lower() in f"{letter.args} {letter.error}".lower())
    ]


@router.get("/dead-letters", response_class=HTMLResponse)
def dead_letters(
    request: Request,
    me: CurrentOperator,
    session: DbSession,
    settings: AppSettings,
    queue: Filter = "",
    actor: Filter = "",
    q: Filter = "",
) -> HTMLResponse:
    letters = _matching(session, settings, me, queue, actor, q)
    return _page(
        request,
        "dead_letters.html.j2",
        me,
        letters=letters,
        filters={"queue": queue, "actor": actor, "q": q},
        queues=QUEUES,
        actors=(actor_names.PROCESS_JOB, actor_names.SEND_EMAIL),
        # A dead job's argument links to its job page.
        job_actor=actor_names.PROCESS_JOB,
    )


def _requeue(settings: Settings, inspector: QueueInspector, letter: DeadLetter) -> bool:
    """Reopen the row and send the message afresh (retry count reset) through
    the outbox, so a broker that loses it has it sent again. Only the removal
    from the dead-letter set counts: two operators clicking at once requeue it
    once (the second copy sent finds the work done)."""
    factory = sessions_of(settings)
    # Reopened first, so the requeued message finds it eligible to run.
    with transaction(factory) as session:
        reopen_for_requeue(session, actor=letter.actor, args=letter.args)
        add_message(session, actor=letter.actor, args=letter.args, now=utcnow())
        outbox_ids = take_pending(session)
    removed = inspector.delete_dead_letter(letter.queue, letter.redis_id)
    dispatch(factory, get_broker(), outbox_ids, now=utcnow())
    return removed


@router.post("/dead-letters/act")
def act_on_dead_letters(
    me: CurrentOperator,
    session: DbSession,
    settings: AppSettings,
    action: Annotated[str, Form()],
    redis_id: Annotated[str, Form()] = "",
    queue: Annotated[str, Form()] = "",
    actor: Annotated[str, Form()] = "",
    q: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """``action`` is requeue or delete; with ``redis_id`` one message, else all matching."""
    if action not in ("requeue", "delete"):
        raise Invalid("action must be requeue or delete", action=action)
    inspector = _inspector(settings)
    letters = _matching(session, settings, me, queue if not redis_id else "", actor, q)
    session.rollback()
    if redis_id:
        letters = [letter for letter in letters if letter.redis_id == redis_id]
        if not letters:
            raise DeadLetterNotFound(id=redis_id)
    if inspector is None:  # the StubBroker: no Redis, nothing was listed
        return _back("/ops/dead-letters", "0 message(s) touched")
    done = 0
    for letter in letters:
        if action == "requeue":
            done += _requeue(settings, inspector, letter)
        else:
            done += inspector.delete_dead_letter(letter.queue, letter.redis_id)
    verb = "requeued" if action == "requeue" else "deleted"
    return _back(
        "/ops/dead-letters",
        f"{done} message(s) {verb}",
        queue=queue if not redis_id else "",
        actor=actor,
        q=q,
    )


# Mail -------------------------------------------------------------------------


@router.get("/mail", response_class=HTMLResponse)
def mail(
    request: Request, me: CurrentOperator, session: DbSession, state: Filter = ""
) -> HTMLResponse:
    return _page(
        request,
        "mail.html.j2",
        me,
        mails=views.list_mail(session, organisation_id=me.organisation_id, state=state or None),
        counts=views.mail_counts(session, organisation_id=me.organisation_id),
        state=state,
        states=EMAIL_STATES,
    )


@router.post("/mail/{email_id}/resend")
def resend(
    email_id: Ref,
    me: CurrentOperator,
    settings: AppSettings,
    state: Annotated[str, Form()] = "",
) -> RedirectResponse:
    factory = sessions_of(settings)
    with transaction(factory) as session:
        views.resend_mail(
            session, organisation_id=me.organisation_id, email_id=email_id, now=utcnow()
        )
        outbox_ids = take_pending(session)
    dispatch(factory, get_broker(), outbox_ids, now=utcnow())
    return _back("/ops/mail", "mail queued again", state=state)


# Events -----------------------------------------------------------------------


@router.get("/events", response_class=HTMLResponse)
def events(request: Request, me: CurrentOperator, session: DbSession) -> HTMLResponse:
    return _page(
        request,
        "events.html.j2",
        me,
        lines=views.seat_lines(session, organisation_id=me.organisation_id),
        orphans=views.orphan_payments(session, organisation_id=me.organisation_id),
    )


# Webhooks ---------------------------------------------------------------------


@router.get("/webhooks", response_class=HTMLResponse)
def webhooks(
    request: Request, me: CurrentOperator, session: DbSession, state: Filter = ""
) -> HTMLResponse:
    org = me.organisation_id
    return _page(
        request,
        "webhooks.html.j2",
        me,
        subscriptions=webhook_views.subscription_rows(session, organisation_id=org),
        deliveries=webhook_views.recent_deliveries(
            session, organisation_id=org, state=state or None
        ),
        counts=webhook_views.delivery_counts(session, organisation_id=org),
        state=state,
        states=DELIVERY_STATES,
    )


@router.post("/webhooks/{webhook_id}/enable")
def enable_webhook(webhook_id: Ref, me: CurrentOperator, settings: AppSettings) -> RedirectResponse:
    factory = sessions_of(settings)
    with transaction(factory) as session:
        sub = get_subscription(
            session, organisation_id=me.organisation_id, subscription_id=webhook_id, lock=True
        )
        update_subscription(
            session,
            sub,
            now=utcnow(),
            allow_private=settings.webhook_allow_private_targets,
            enabled=True,
        )
        outbox_ids = take_pending(session)
    dispatch(factory, get_broker(), outbox_ids, now=utcnow())
    return _back("/ops/webhooks", "subscription enabled")


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver")
def redeliver_webhook(
    webhook_id: Ref,
    delivery_id: Ref,
    me: CurrentOperator,
    settings: AppSettings,
    state: Annotated[str, Form()] = "",
) -> RedirectResponse:
    factory = sessions_of(settings)
    with transaction(factory) as session:
        sub = get_subscription(
            session, organisation_id=me.organisation_id, subscription_id=webhook_id
        )
        redeliver(session, sub, delivery_id, now=utcnow())
        outbox_ids = take_pending(session)
    dispatch(factory, get_broker(), outbox_ids, now=utcnow())
    return _back("/ops/webhooks", "delivery queued again", state=state)


def error_page(request: Request, error: RollcallError, status_code: int) -> HTMLResponse:
    return _page(request, "error.html.j2", None, status_code=status_code, error=error)
