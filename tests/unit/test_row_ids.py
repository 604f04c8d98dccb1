"""Every row id is a UUIDv7 made in one place (models.base.new_id): new rows
sort after old ones, so inserts land at the end of the id indexes. A row id
made anywhere else (a set-wise insert with ``uuid.uuid4()``, say) would put
its table back on random pages; tests/component/test_row_ids.py checks the
rows an enrollment writes."""

from __future__ import annotations

import re
from pathlib import Path

from rollcall.models.base import new_id

SRC = Path(__file__).resolve().parents[2] / "src"
#: uuid4 where no row is written: a leader's name, a file name, a MIME
#: boundary, a request id.
NOT_ROW_IDS = {
    "scheduler/leader.py",
    "cli/mailsink.py",
    "workers/smtp.py",
    "intake/middleware.py",
}


def test_ids_are_uuidv7_and_sort_in_the_order_they_were_made() -> None:
    ids = [new_id() for _ in range(1000)]
    assert {i.version for i in ids} == {7}
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_no_row_id_is_made_beside_new_id() -> None:
    makers = {
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if re.search(r"\buuid4\(|\buuid1\(", path.read_text())
    }
    assert makers <= NOT_ROW_IDS, sorted(makers - NOT_ROW_IDS)
