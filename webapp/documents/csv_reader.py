"""CSV files read as a table, within the file's cell budget."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator

from .parsed import CellBudget, ParsedDocument, ParseError, ReadingLimits, build_table

CSV_DELIMITERS = ",;\t|"
# The dialect is guessed from the start of the file only: enough lines to see a pattern.
SNIFF_CHARACTERS = 64_000
SNIFF_LINES = 200


def read_csv(text: str, encoding: str, limits: ReadingLimits) -> ParsedDocument:
    delimiter = sniff_delimiter(text[:SNIFF_CHARACTERS])
    csv.field_size_limit(16 * 1024 * 1024)
    try:
        table = build_table(None, _numbered_rows(text, delimiter), CellBudget(limits.max_cells))
    except csv.Error as error:
        raise ParseError(f"The CSV file could not be read: {error}.") from error
    meta = {"sheets": [{"name": None, "columns": table.columns, "rows": len(table.rows)}], "encoding": encoding}
    return ParsedDocument("csv", tables=[table] if table.columns else [], meta=meta)


def _numbered_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    for number, cells in enumerate(reader, start=1):
        yield number, [cell.replace("\t", " ").replace("\n", " ").strip() for cell in cells]


def sniff_delimiter(sample: str) -> str:
    """The delimiter that splits the sample's rows into the same number of fields most often.

    The csv module's own reader does the splitting (linear, quotes understood); the standard
    Sniffer's regular expressions can backtrack for minutes on crafted quotes and newlines.
    """
    lines = sample.splitlines(keepends=True)[:SNIFF_LINES]
    if len(lines) > 1 and len(sample) == SNIFF_CHARACTERS:
        lines = lines[:-1]  # the last line may be cut short
    best, best_score = ",", (0.0, 0)
    for delimiter in CSV_DELIMITERS:
        widths = [len(row) for row in csv.reader(lines, delimiter=delimiter) if row]
        if not widths:
            continue
        width, count = Counter(widths).most_common(1)[0]
        score = (count / len(widths), width)
        if width > 1 and score > best_score:
            best, best_score = delimiter, score
    return best
