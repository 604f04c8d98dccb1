"""``rollcall status``: the dashboard's overview as text, for a terminal."""

from __future__ import annotations

from datetime import datetime

import redis
from sqlalchemy import func, select

from rollcall.config.settings import Settings
from rollcall.domain.clock import utcnow
from rollcall.domain.ops.producer_health import producer_state
from rollcall.domain.ops.views import jobs_per_minute
from rollcall.messaging.queue_inspect import inspector_for
from rollcall.models import EmailMessage, Job
from rollcall.models.db import sessions_of

SPARKS = " ▁▂▃▄▅▆▇█"


def sparkline(values: list[int]) -> str:
    peak = max(values, default=0)
    if not peak:
        return SPARKS[0] * len(values)
    return "".join(SPARKS[round(v / peak * (len(SPARKS) - 1))] for v in values)


def _ago(now: datetime, then: datetime) -> str:
    return f"{int((now - then).total_seconds())}s ago"


def render_status(settings: Settings) -> str:
    """Queues, workers, scheduler, jobs and mail: every organisation."""
    now = utcnow()
    lines: list[str] = []
    inspector = inspector_for(settings.redis_url, settings.redis_namespace)
    if inspector is None:
        lines.append("queues: StubBroker (no Redis to read)")
    else:
        try:
            lines.append(f"{'queue':<8}{'ready':>8}{'delayed':>9}{'in progress':>13}{'dead':>7}")
            for depth in inspector.depths():
                lines.append(
                    f"{depth.queue:<8}{depth.ready:>8}{depth.delayed:>9}"
                    f"{depth.in_progress:>13}{depth.dead:>7}"
                )
            workers = inspector.workers()
            alive = [worker for worker in workers if worker.alive]
            lines.append(f"\nworkers alive: {len(alive)}")
            for worker in alive:
                lines.append(
                    f"  {worker.worker_id[:12]}  in flight {worker.in_flight}"
                    f"  seen {_ago(now, worker.last_seen)}"
                )
            leader, _ticks = inspector.scheduler()
            lines.append(f"\nscheduler leader: {leader or 'none'}")
            for name, one in inspector.producer_health().items():
                last = _ago(now, one.last_success) if one.last_success else "never"
                skipped = f", {one.skipped} row(s) skipped in all" if one.skipped else ""
                state = producer_state(one, now=now)
                lines.append(f"  {name}: last tick {last}, {state}{skipped}")
        except redis.RedisError as exc:
            lines.append(f"redis unavailable: {exc}")
    with sessions_of(settings)() as session:
        jobs = dict(session.execute(select(Job.status, func.count()).group_by(Job.status)).all())
        mail = dict(
            session.execute(
                select(EmailMessage.state, func.count()).group_by(EmailMessage.state)
            ).all()
        )
        series = jobs_per_minute(session, organisation_id=None, now=now)
    lines.append("\njobs: " + (", ".join(f"{k} {v}" for k, v in sorted(jobs.items())) or "none"))
    lines.append("mail: " + (", ".join(f"{k} {v}" for k, v in sorted(mail.items())) or "none"))
    processed = [p for _m, p, _f in series]
    failed = [f for _m, _p, f in series]
    lines.append(f"\njobs per minute, last hour ({sum(processed)} processed, {sum(failed)} failed)")
    lines.append(f"  processed |{sparkline(processed)}|")
    lines.append(f"  failed    |{sparkline(failed)}|")
    return "\n".join(lines)
