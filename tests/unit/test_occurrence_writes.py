"""Every insert of occurrences goes through domain.events.occurrences.insert_occurrences,
which locks the events' rows first and so can write the new dates by COPY with
no conflict left to catch. An occurrence inserted anywhere else (an ORM
``Occurrence(...)``, a Core insert of its table) would race it without that
lock, and a date written twice would fail the unique (event_id, starts_at)."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
WRITER = "domain/events/occurrences.py"
#: An ORM object made, a Core insert, a COPY into the table.
INSERTS = re.compile(
    r"(?<!class )\bOccurrence\(|insert\(Occurrence\b|copy_rows\([^)]*\bOccurrence\b"
)


def test_occurrences_are_inserted_in_one_place() -> None:
    writers = {
        str(path.relative_to(SRC)) for path in SRC.rglob("*.py") if INSERTS.search(path.read_text())
    }
    assert writers == {WRITER}, sorted(writers)
