"""Spreadsheet-safe CSV: a cell that would start a formula gets an apostrophe;
the csv module quotes the rest; the text comes in chunks."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from rollcall.domain.exports.csv_cells import csv_chunks, neutralise


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@a", "'@a"),
        ("\t=x", "'\t=x"), ("\r=x", "'\r=x"), ("Ada", "Ada"), ("a=b", "a=b"),
        (" =x", " =x"), ("", ""), (None, ""), (3, "3"), ("'=x", "'=x"),
        (datetime(2031, 1, 2, 3, 4, tzinfo=UTC), "2031-01-02T03:04:00+00:00"),
    ],
)  # fmt: skip
def test_a_cell_is_neutralised_only_where_a_formula_would_start(value: object, cell: str) -> None:
    assert neutralise(value) == cell


def test_chunks_hold_a_few_rows_and_read_back_whole() -> None:
    rows = [(i, f'Lovelace, "Ada"\nline {i}', "=x") for i in range(7)]

    chunks = list(csv_chunks(("n", "name", "f"), rows, rows_per_chunk=3))

    assert len(chunks) == 1 + 3  # the header, then 3 + 3 + 1 rows
    read = list(csv.reader(io.StringIO("".join(chunks), newline="")))
    assert read[0] == ["n", "name", "f"]
    assert read[1:] == [[str(i), f'Lovelace, "Ada"\nline {i}', "'=x"] for i in range(7)]
