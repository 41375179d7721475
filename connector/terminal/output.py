"""CLI output: JSON with --json, otherwise tables and plain sentences for people.

Identifiers are never wrapped or cut: a column whose cells have no spaces (ids, DIDs, URLs,
states) keeps its full width and only the text columns shrink. A table whose identifiers
alone are wider than the terminal is printed as one block of `column value` lines per row.
"""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any

BORDERS = 3  # rich draws "│ " before a cell and " " after it


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def print_document(shown: dict[str, Any], key: str, whole: bool) -> None:
    """SHOWN whole (--json, which the counterpart command reads back), else its signed document
    under KEY as it travels: a JWT as its text, JSON-LD as JSON."""
    document = shown if whole else shown[key]
    if isinstance(document, str):
        print(document)
    else:
        print_json(document)


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    cells = [["" if cell is None else str(cell) for cell in row] for row in rows]
    shapes = [_shape(column, [row[i] for row in cells]) for i, column in enumerate(columns)]
    width = shutil.get_terminal_size().columns
    if sum(least for _, least, _ in shapes) + BORDERS * len(columns) + 1 > width:
        _records(title, columns, cells, width)
        return
    from rich.console import Console  # only when a table is printed: rich takes a while to import
    from rich.table import Table

    grid = Table(title=title, show_header=True, header_style="bold")
    for column, (full, _, token) in zip(columns, shapes, strict=True):
        if token:
            grid.add_column(column, no_wrap=True, min_width=full)
        else:
            grid.add_column(column, overflow="fold")
    for row in cells:
        grid.add_row(*row)
    Console(highlight=False, width=width).print(grid)


def _shape(column: str, values: list[str]) -> tuple[int, int, bool]:
    """(full width, least width, whether it holds tokens): a token column keeps its full
    width; a text column may shrink to its longest word."""
    full = max([len(column), *(len(v) for v in values)])
    if not any(c.isspace() for v in values for c in v):
        return full, full, True
    word = max(len(w) for v in values for w in v.split())
    return full, min(full, max(8, word)), False


def _records(title: str | None, columns: Sequence[str], cells: list[list[str]],
             width: int) -> None:
    pad = max(len(c) for c in columns) + 2
    blocks = ["\n".join(_line(column.ljust(pad), cell, width)
                        for column, cell in zip(columns, row, strict=True)) for row in cells]
    head = [f"{title} ({len(cells)})"] if title else []
    sys.stdout.write("\n\n".join(head + blocks) + "\n")


def _line(label: str, cell: str, width: int) -> str:
    """LABEL then CELL, its text wrapped under itself; a word (an id) is never broken."""
    return textwrap.fill(cell, width, initial_indent=label, subsequent_indent=" " * len(label),
                         break_long_words=False, break_on_hyphens=False) or label.rstrip()


def fields(pairs: Iterable[tuple[str, Any]]) -> None:
    table(None, ("field", "value"), pairs)


def error(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")
