"""The three output shapes every report shares: aligned tables that fit a terminal, CSV via the
csv module, and JSON with sorted keys. Tables are for people, so their cells are made printable;
CSV and JSON are for programs and keep every value exact.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from roster.untrusted import escaped, json_text, printable

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
WIDTH = 80
GAP = "  "
MIN_SHRUNK = 8
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Column:
    """A table column; columns with a ``shrink`` priority above 0 are cut to fit the width,
    the highest priority first, then the widest."""

    header: str
    align: Literal["left", "right"] = "left"
    shrink: int = 0


def truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + ELLIPSIS


def render_table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    width: int | None = WIDTH,
    *,
    header: bool = True,
) -> str:
    """Rows under a header, aligned, cut to ``width`` by shortening the widest text cells;
    ``width=None`` keeps every cell whole (output that is not a terminal's).

    Cells are made ``printable`` before they are measured: names come from the API.
    """
    shown = [[c.header for c in columns]] if header else []
    shown += [[printable(cell) for cell in row] for row in rows]
    widths = _natural_widths(columns, shown)
    if width is not None:
        widths = _fit(columns, widths, width)
    lines = [_line(columns, widths, row) for row in shown]
    return "\n".join(lines) + "\n"


def _natural_widths(columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> list[int]:
    return [max((len(row[i]) for row in rows), default=0) for i in range(len(columns))]


def _fit(columns: Sequence[Column], widths: list[int], width: int) -> list[int]:
    widths = list(widths)
    budget = width - len(GAP) * (len(columns) - 1)
    while sum(widths) > budget:
        shrinkable = [i for i, c in enumerate(columns) if c.shrink and widths[i] > MIN_SHRUNK]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda i: (columns[i].shrink, widths[i]))
        widths[widest] -= 1
    return widths


def _line(columns: Sequence[Column], widths: Sequence[int], cells: Sequence[str]) -> str:
    parts = [
        _cell(cell, column, size) for cell, column, size in zip(cells, columns, widths, strict=True)
    ]
    return GAP.join(parts).rstrip()


def _cell(text: str, column: Column, width: int) -> str:
    text = truncate(text, width)
    return text.rjust(width) if column.align == "right" else text.ljust(width)


def render_csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """CSV, every value exact; only a lone surrogate (which UTF-8 cannot hold) is spelled out."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return _LONE_SURROGATE.sub(lambda found: escaped(found.group()), buffer.getvalue())


def render_json(data: Any) -> str:
    return json_text(data)


def count(n: int) -> str:
    return f"{n:,}"


def compact(n: int) -> str:
    """``24.5M``: three significant digits and a unit, for tables that must stay narrow."""
    for size, unit in ((10**9, "B"), (10**6, "M"), (10**3, "K")):
        if abs(n) >= size - size // 2000:  # 999,500 shows as 1.00M, not 1000K
            shown = Decimal(n) / size
            digits = 2 if abs(shown) < 10 else 1 if abs(shown) < 100 else 0
            return f"{shown:.{digits}f}{unit}"
    return str(n)


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"
