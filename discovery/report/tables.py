"""HTML tables whose columns sort on a header click (with the inline script in `render.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Cell:
    """One table cell: `html` is shown as is (escape text before); `sort` is the raw value the
    column sorts by (numbers sort numerically); `numeric` right-aligns."""

    html: str
    sort: float | str | None = None
    numeric: bool = False
    css: str = ""


def text(value: object) -> Cell:
    """A cell of escaped text."""
    return Cell(escape(str(value)))


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    sortable: bool = True,
    row_classes: Sequence[str] | None = None,
    css: str = "",
) -> str:
    """A `<table>`; `headers` are plain text, `row_classes` optional CSS classes per row."""
    classes = " ".join(c for c in ("sortable" if sortable else "", css) if c)
    tip = ' title="click to sort"' if sortable else ""
    head = "".join(f'<th scope="col"{tip}>{escape(h)}</th>' for h in headers)
    body = []
    for i, row in enumerate(rows):
        row_class = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        body.append(f"<tr{row_class}>" + "".join(_cell(c) for c in row) + "</tr>")
    return f'<table class="{classes}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _cell(cell: Cell) -> str:
    classes = " ".join(c for c in ("num" if cell.numeric else "", cell.css) if c)
    attributes = f' class="{classes}"' if classes else ""
    if cell.sort is not None:
        attributes += f' data-sort="{escape(str(cell.sort))}"'
    return f"<td{attributes}>{cell.html}</td>"
