"""One settings object, read from the environment and validated at start.

Unset variables fall back to the embedded defaults that `rollcall dev` uses:
a SQLite file under ``var/``, the dev Redis on port 6380 and the dev SMTP sink
on port 1025.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SRC_ROOT = Path(__file__).resolve().parent.parent
REPO_ROOT = SRC_ROOT.parent


def _default_templates_dir() -> Path:
    checkout = REPO_ROOT / "templates"
    if checkout.is_dir():
        return checkout
    return Path(__file__).resolve().parent / "_templates"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    database_url: str = Field(default="sqlite:///var/rollcall.db")
    #: PostgreSQL: give up connecting after this many seconds (libpq's
    #: connect_timeout; it counts whole seconds and at least 2). Without it a
    #: request to an unreachable server waits as long as the kernel does.
    database_connect_timeout_seconds: int = Field(default=5, ge=2, le=300)
    #: PostgreSQL: cancel any statement running longer (lock waits included).
    #: 0 turns it off. Migrations do not use it.
    database_statement_timeout_ms: int = Field(default=30_000, ge=0)
    #: How long a request waits for a free pooled connection before it is told
    #: the database is unavailable (SQLAlchemy's pool_timeout).
    database_pool_timeout_seconds: float = Field(default=5.0, gt=0, le=300)
    #: Connections this process's pool holds at most (none beyond: max_overflow
    #: 0). ``rollcall api|worker|scheduler`` set it from the process's threads
    #: (models.db.pool_size_for); unset, a pool keeps 10 and opens up to 20 more.
    database_pool_size: int | None = Field(default=None, ge=1, le=1000)
    #: PostgreSQL is reached through PgBouncer in transaction mode (README,
    #: Database connections): no prepared statements, no startup options.
    database_pgbouncer: bool = Field(default=False)
    #: Threads of each web process that run the (synchronous) routes: the size
    #: of uvicorn's threadpool (anyio's default limiter), so of its pool too.
    web_threads: int = Field(default=16, ge=1, le=1000)
    redis_url: str = Field(default="redis://127.0.0.1:6380/0")
    smtp_url: str = Field(default="smtp://127.0.0.1:1025")
    mail_from: str = Field(default="Rollcall <no-reply@rollcall.localhost>")
    #: Prefix for every Redis key Dramatiq and Rollcall write, so one Redis can
    #: serve several deployments (and parallel test runs).
    redis_namespace: str = Field(default="rollcall")
    templates_dir: Path = Field(default_factory=_default_templates_dir)
    var_dir: Path = Field(default=Path("var"))
    #: An outbox row not marked sent after this many seconds is re-enqueued by
    #: the scheduler's relay (the web process normally sends it at once).
    outbox_relay_after_seconds: int = Field(default=30, ge=1)
    #: A row sent this long ago and not done is checked against the broker by
    #: the reconciler; if the broker lost its message (or only a dead worker
    #: holds it) it is sent again. Longer than a message normally waits.
    outbox_reconcile_after_seconds: int = Field(default=120, ge=1)
    #: Seconds between the reconciler's ticks.
    outbox_reconcile_every_seconds: int = Field(default=30, ge=1)
    #: A worker silent for this long is presumed dead; its unacknowledged
    #: messages go back on the queue (Dramatiq's Redis broker maintenance).
    broker_heartbeat_timeout_ms: int = Field(default=60_000, ge=1_000)
    #: Out of 100,000 fetches, how many also run that maintenance.
    broker_maintenance_chance: int = Field(default=1_000, ge=0, le=100_000)
    #: A worker polls an empty queue with a growing pause up to this long
    #: (Dramatiq's worker timeout, 1,000 ms unless told): the longest a message
    #: waits for an idle worker to notice it, at one Redis fetch per queue per
    #: pause. ``rollcall worker`` hands it to Dramatiq (``dramatiq_env``).
    worker_idle_poll_ms: int = Field(default=100, ge=10, le=60_000)
    log_level: str = Field(default="INFO")
    log_json: bool = Field(default=True)
    #: Enqueue the Dramatiq message straight after the intake commit. Turned off
    #: only by tests that want to prove the relay alone delivers.
    enqueue_on_commit: bool = Field(default=True)
    #: Signs the dashboard's session cookie. Set it in production (same value on
    #: every web process); unset, each process makes a random one at start.
    secret_key: str | None = Field(default=None)
    #: The dashboard cookie's ``Secure`` flag. Browsers accept it on
    #: http://localhost and 127.0.0.1 too; turn off only behind plain-HTTP hosts.
    ops_cookie_secure: bool = Field(default=True)
    ops_session_hours: int = Field(default=12, ge=1)
    #: A web process keeps the API keys it authenticated this long at most
    #: (messaging.key_epoch: a change to a key ends every entry at once through
    #: the epoch in Redis; this bounds an entry if that change was not heard).
    #: 0 turns the cache off. Under ``REDIS_URL=stub://`` there is none.
    api_key_cache_seconds: float = Field(default=30.0, ge=0, le=3600)
    #: Seconds between the dashboard pages' self-refreshes.
    ops_refresh_seconds: int = Field(default=5, ge=1)

    #: Recurring events have their occurrences expanded this far ahead (rolling).
    occurrence_horizon_days: int = Field(default=365, ge=1, le=3660)

    # Mail and reminders (issue 5) ------------------------------------------------
    #: A reminder run found more than this many minutes after its moment is
    #: recorded as ``missed`` and not sent (a day-old "tomorrow" mail misleads).
    reminder_grace_minutes: int = Field(default=60, ge=0)
    #: Mails a reminder run claims, sends over its one connection and records per batch.
    reminder_batch_size: int = Field(default=200, ge=1, le=5000)
    #: Transient SMTP failures retry after base * 2**(attempt-1) ms, capped.
    mail_retry_base_ms: int = Field(default=5_000, ge=1)
    mail_retry_max_ms: int = Field(default=15 * 60_000, ge=1)
    #: Sending attempts per mail before it is marked ``failed``.
    mail_max_attempts: int = Field(default=8, ge=1)
    #: A sender's claim on a mail (``sending``) lasts this long; past it the
    #: mail is claimed and sent again (its sender died between claim and
    #: record). Longer than one SMTP send can take (its timeouts are 30 s).
    mail_lease_seconds: int = Field(default=300, ge=1)
    #: A worker thread keeps its SMTP connection between mail messages while it
    #: has been idle at most this long (workers.smtp_keep); 0: one per message.
    #: Below the server's own idle timeout (RFC 5321 asks 5 minutes of it).
    smtp_keep_alive_seconds: float = Field(default=10.0, ge=0, le=3600)
    #: The scheduler's leadership lock expires this long after its holder died;
    #: a standby polls every ttl/6 seconds, so it takes over within ~7/6 ttl.
    scheduler_leader_ttl_seconds: float = Field(default=30.0, gt=0.5, le=50.0)
    #: How often the scheduler looks for due reminders (and stalled mail): a
    #: reminder goes out at most this long after its moment.
    reminder_tick_seconds: int = Field(default=60, ge=1, le=3600)

    # Webhooks (issue 18) ---------------------------------------------------------
    #: A failed delivery is retried base x 2**(attempt-1) ms later, capped, until
    #: it is WEBHOOK_RETRY_WINDOW_SECONDS old (about 3 days).
    webhook_retry_base_ms: int = Field(default=10_000, ge=1)
    webhook_retry_max_ms: int = Field(default=6 * 60 * 60_000, ge=1)
    webhook_retry_window_seconds: int = Field(default=3 * 24 * 3600, ge=1)
    #: A subscription is disabled after this many deliveries in a row failed for good.
    webhook_disable_after_failures: int = Field(default=5, ge=1)
    #: A receiver must answer within this many seconds (connect and read).
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    #: A sender's claim on a delivery lasts this long; past it the delivery is
    #: sent again (its sender died mid-delivery). Longer than the timeout.
    webhook_lease_seconds: int = Field(default=60, ge=1)
    #: Allow targets on loopback, private, link-local and metadata addresses
    #: (``rollcall dev`` sets it; never in production).
    webhook_allow_private_targets: bool = Field(default=False)

    #: Signs calendar cursors (HMAC-SHA256). The default is for development only:
    #: set a long random value in production, or cursors can be forged.
    calendar_cursor_secret: str = Field(default="dev-only-calendar-cursor-secret", min_length=8)

    #: GraphQL at /graphql (issue 16): GET serves GraphiQL in a browser only if
    #: on (``rollcall dev`` turns it on); introspection may be turned off; a
    #: document deeper, with more aliases or more tokens than these is refused.
    graphql_graphiql: bool = Field(default=False)
    graphql_introspection: bool = Field(default=True)
    graphql_max_depth: int = Field(default=10, ge=2, le=100)
    graphql_max_aliases: int = Field(default=30, ge=1, le=1000)
    graphql_max_tokens: int = Field(default=2000, ge=100, le=100_000)

    #: Seconds an enroll mutation waits for its job's outcome when the query
    #: gives no ``wait`` (README, GraphQL: waiting for the job).
    graphql_job_wait_seconds: float = Field(default=10.0, ge=0, le=60)
    #: The most a query's ``wait`` may ask for; more is refused.
    graphql_job_wait_max_seconds: float = Field(default=60.0, ge=0, le=600)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def dramatiq_env(settings: Settings) -> dict[str, str]:
    """What the ``dramatiq`` command reads from its environment, as these
    settings have it: ``rollcall worker`` (and whatever starts the command the
    same way: the benchmarks, the fault tests) runs it with these."""
    return {"dramatiq_worker_timeout": str(settings.worker_idle_poll_ms)}
