"""Reading a rendered report back: its tables, cell by cell (used by the report and campaign tests)."""

from __future__ import annotations

from html.parser import HTMLParser


class Tables(HTMLParser):
    """Collects every table as {css class: [[(td attributes, text), ...] per row]}."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[dict, str]]]] = {}
        self._table: list | None = None
        self._cell: list | None = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("class", ""), [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag == "td" and self._table is not None:
            self._cell = [attrs, ""]
        elif tag == "svg":
            self._depth += 1

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag == "td" and self._cell is not None:
            self._table[-1].append((self._cell[0], self._cell[1].strip()))
            self._cell = None
        elif tag == "svg":
            self._depth -= 1

    def handle_data(self, data):
        if self._cell is not None and self._depth == 0:  # atom labels inside drawings are not cell text
            self._cell[1] += data


def parse_tables(html: str) -> dict[str, list[list[tuple[dict, str]]]]:
    parser = Tables()
    parser.feed(html)
    return {name: [row for row in rows if row] for name, rows in parser.tables.items()}
