"""Regenerate the README's descriptor table from `discovery.features.qm.DESCRIPTORS` and the
physically derived `discovery.features.derived.DERIVED`.

    python scripts/readme_tables.py           # rewrite the table in README.md
    python scripts/readme_tables.py --check   # exit 1 if README.md is out of date

The table sits between two HTML comments in README.md; tests/test_readme.py runs the check.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from discovery.features.derived import DERIVED
from discovery.features.qm import DESCRIPTORS
from discovery.features.settings import PRESETS

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN = "<!-- descriptor table: written by scripts/readme_tables.py from discovery.features.qm.DESCRIPTORS -->"
END = "<!-- end of descriptor table -->"


def descriptor_table() -> str:
    """One markdown row per descriptor: column, unit, method and when it applies."""
    acid_base_presets = ", ".join(f"`{name}`" for name, preset in PRESETS.items() if preset.get("acid_base"))
    rows = ["| column | unit | method |", "|---|---|---|"]
    for d in DESCRIPTORS:
        method = d.method
        if d.per_repeat_unit:
            method += "; per repeat unit for polymers"
        if d.needs_acid_base:
            method += f"; {acid_base_presets} preset only"
        rows.append(f"| `{d.name}` | {d.unit} | {method} |")
    for d in DERIVED:
        rows.append(f"| `{d.name}` | {d.unit} | derived, no QM: {d.method} |")
    return "\n".join(rows)


def with_table(readme: str) -> str:
    """`readme` with the text between the markers replaced by the current table."""
    head, begin, rest = readme.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"README.md lacks the markers {BEGIN!r} ... {END!r}")
    return f"{head}{BEGIN}\n{descriptor_table()}\n{END}{tail}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether README.md is up to date")
    args = parser.parse_args()
    current = README.read_text(encoding="utf-8")
    wanted = with_table(current)
    if args.check:
        if wanted != current:
            print("README.md's descriptor table is out of date: run python scripts/readme_tables.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
