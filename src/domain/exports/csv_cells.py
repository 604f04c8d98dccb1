"""CSV text for spreadsheets, produced in chunks, every cell neutralised.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula (and tab or carriage return can hide such a start): an attendee named
``=HYPERLINK(...)`` would run in the organiser's spreadsheet. Such a cell gets
a leading apostrophe, the OWASP advice, which spreadsheets show as text. The
csv module does the quoting (commas, quotes, newlines inside cells).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime

#: The first characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """The cell's text, with an apostrophe before a formula start."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Line:
    """A file-like target for csv.writer that hands back what it was given."""

    def write(self, text: str) -> str:
        return text


def csv_chunks(
    header: Iterable[str], rows: Iterable[Iterable[object]], *, rows_per_chunk: int = 500
) -> Iterator[str]:
    """The CSV text (header first), a few hundred rows per chunk: memory holds
    one chunk, never the export."""
    writer = csv.writer(_Line())
    yield str(writer.writerow(list(header)))
    chunk: list[str] = []
    for row in rows:
        chunk.append(str(writer.writerow([neutralise(cell) for cell in row])))
        if len(chunk) >= rows_per_chunk:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)
