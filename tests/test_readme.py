"""README.md's descriptor table is the one scripts/readme_tables.py writes from `DESCRIPTORS`."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("readme_tables", ROOT / "scripts" / "readme_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_descriptor_table_matches_the_code():
    script = _script()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert script.with_table(readme) == readme, "README.md is out of date: run python scripts/readme_tables.py"


def test_the_table_has_one_row_per_descriptor_and_marks_polymer_division():
    from discovery.features.derived import DERIVED
    from discovery.features.qm import DESCRIPTORS

    rows = _script().descriptor_table().splitlines()[2:]
    assert len(rows) == len(DESCRIPTORS) + len(DERIVED)
    for row, d in zip(rows, (*DESCRIPTORS, *DERIVED)):
        assert row.startswith(f"| `{d.name}` | {d.unit} |")
        assert ("per repeat unit for polymers" in row) == d.per_repeat_unit
        assert ("derived, no QM" in row) == (d in DERIVED)
