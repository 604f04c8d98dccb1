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
    log_level: str = Field(default="INFO")
    log_json: bool = Field(default=True)
    #: Enqueue the Dramatiq message straight after the intake commit. Turned off
    #: only by tests that want to prove the relay alone delivers.
    enqueue_on_commit: bool = Field(default=True)
    #: Signs calendar cursors (HMAC-SHA256). The default is for development only:
    #: set a long random value in production, or cursors can be forged.
    calendar_cursor_secret: str = Field(default="dev-only-calendar-cursor-secret", min_length=8)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
