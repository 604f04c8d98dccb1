"""An event's content access and completion settings (seed 000): the upstream
contents an enrollment unlocks, the certificate it earns and the passing score.

Stored on the event (ids as strings in JSON lists), copied by ``copy_event``,
and carried in every enrollment job's result as ``content`` so the upstream
platform knows what to unlock without asking again.
"""

from __future__ import annotations

from typing import Any

from rollcall.models import Event
from rollcall.models.events import ACCESS_FIELDS


def stored_content(fields: dict[str, Any]) -> None:
    """Turn the access lists in ``fields`` (create or PATCH) into what the JSON
    columns hold: id strings, each once, in the order given."""
    for name in ACCESS_FIELDS:
        if name in fields and fields[name] is not None:
            fields[name] = list(dict.fromkeys(str(item) for item in fields[name]))


def content_of(event: Event) -> dict[str, Any]:
    """The event's content settings as an enrollment job's result carries them."""
    out: dict[str, Any] = {name: list(getattr(event, name) or []) for name in ACCESS_FIELDS}
    out["certificate_id"] = str(event.certificate_id) if event.certificate_id else None
    out["score_threshold"] = event.score_threshold
    return out
