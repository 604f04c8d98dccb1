"""The rules, as functions over a session. Time is always a parameter (``now``)."""

# Keeps the calendar cache in step with every write, on Rollcall's own
# sessionmakers (models.db.on_every_session): whoever uses the rules has it.
from rollcall.domain.calendar import sync as _calendar_sync  # noqa: F401
