"""Fuzzing the results-file parser: over a thousand generated malformed or hostile files (random bytes,
formula cells, control characters, mixed encodings, broken workbooks, a file over the size limit, a
million rows) go through `Campaign.ingest` on a real SQLite store. Each is refused with a clear
message naming the file and storing nothing, or accepted and stored whole; nothing else happens."""

from __future__ import annotations

import io
import random
import zipfile

import pytest
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
import pandas as pd
from test_loop import TABLE, Parts, _campaign, _settings, _value

from discovery.campaign import labio
from discovery.campaign.labio import ResultsFileError

HOSTILE = [
    "=cmd|' /C calc'!A0", "=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "-2+3", "@SUM(1)", "\t=1", "\r=1",
    "nan", "NaN", "inf", "-Infinity", "1e999", "1e308", "-1e308", "1e-320", "0x10", "1_000", "3,14", "١٢٣",
    "\x1b[31mred\x1b[0m", "\u202egnp.exe", "\u200b1", "💥", "\x00", "null", "None", "#N/A", "TRUE", "  ", "",
    "C000001", "C999999", "c000001", "C0000001", "CCO", "C1CC", "[*]CC", "[*]CC([*])c1ccccc1", "O=C=O", "X" * 300,
    "failed", "FAILED", "ok", "correct", "retract", "yes", "no", "maybe", "2024-02-30", "2024-05-01", "01/05/2024",
    "1", "2.5", "-0.1", "0", "17", "\"", "\"\"", "'", ";", ",", "\n", "é", "\ufeff",
]
COLUMNS = ["candidate_id", "smiles", "value", "uncertainty", "status", "reason", "date", "notes", "action",
           "measurement_id", "confirmed", "Candidate ID", "PSMILES", "VALUE", "value", "=1+1", "", "x" * 50]


def _csv_text(rng: random.Random, ids: list[str]) -> str:
    header = rng.sample(COLUMNS, rng.randint(1, 7))
    if rng.random() < 0.7:
        header[0] = "candidate_id"
        if "value" not in header and rng.random() < 0.8:
            header.append("value")
    lines = [header]
    for _ in range(rng.randint(0, 12)):
        row = []
        for column in header:
            if column == "candidate_id" and rng.random() < 0.6:
                row.append(rng.choice(ids))
            elif column.lower() == "value" and rng.random() < 0.5:
                row.append(f"{rng.uniform(-1, 4):.3f}")
            else:
                row.append(rng.choice(HOSTILE))
        if rng.random() < 0.1:
            row = row[: rng.randint(0, len(row))] if rng.random() < 0.5 else row + ["extra"] * rng.randint(1, 3)
        lines.append(row)
    out = io.StringIO()
    for row in lines:
        cells = []
        for cell in row:
            if rng.random() < 0.85 and any(c in cell for c in ",\"\n\r"):
                cell = '"' + cell.replace('"', '""') + '"'
            cells.append(cell)
        out.write(",".join(cells) + rng.choice(["\n", "\r\n", "\n", "\r"]))
    return out.getvalue()


def _xlsx_bytes(rng: random.Random, ids: list[str]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in [line.split(",") for line in _csv_text(rng, ids).splitlines()]:
        cells = []
        for cell in row:
            pick = rng.random()
            cells.append(rng.uniform(-1e6, 1e6) if pick < 0.1 else None if pick < 0.15 else
                         "=1+1" if pick < 0.2 else True if pick < 0.22 else ILLEGAL_CHARACTERS_RE.sub("", cell))
        sheet.append(cells)
    if rng.random() < 0.2:
        workbook.create_sheet("second").append(["candidate_id", "value"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cases(ids: list[str]):
    """(name, suffix, bytes) of the generated files, deterministic."""
    rng = random.Random(18)
    for i in range(150):  # random bytes
        size = rng.choice([0, 1, 10, 1000, 100_000])
        yield f"bytes{i}", rng.choice([".csv", ".tsv", ".xlsx", ".CSV", ".txt"]), rng.randbytes(size)
    for i in range(550):  # CSV with hostile cells, ragged rows, stray quotes and line ends
        text = _csv_text(rng, ids)
        if rng.random() < 0.1:
            text = text.replace(",", "\t")
        yield f"csv{i}", rng.choice([".csv", ".csv", ".tsv"]), text.encode("utf-8")
    for i in range(120):  # other encodings, or several in one file
        text = _csv_text(rng, ids) + "C000001,é,ü\n"
        encoding = rng.choice(["latin-1", "utf-16", "utf-16-le", "cp1252", "utf-32", "mixed", "bom-inside"])
        if encoding == "mixed":
            data = b"".join(line.encode(rng.choice(["utf-8", "latin-1"]), errors="replace") + b"\n"
                            for line in text.splitlines())
        elif encoding == "bom-inside":
            data = text.encode("utf-8").replace(b"\n", b"\n\xef\xbb\xbf", 1)
        else:
            data = text.encode(encoding, errors="replace")
        yield f"encoding{i}_{encoding}", ".csv", data
    for i in range(150):  # workbooks: hostile cells, formulas, truncated or bit-flipped
        data = _xlsx_bytes(rng, ids)
        damage = rng.random()
        if damage < 0.25:
            data = data[: rng.randint(0, len(data))]
        elif damage < 0.5:
            flipped = bytearray(data)
            for _ in range(rng.randint(1, 20)):
                flipped[rng.randrange(len(flipped))] = rng.randrange(256)
            data = bytes(flipped)
        yield f"xlsx{i}", ".xlsx", data
    for i in range(30):  # zip files that are no workbook
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(rng.choice(["[Content_Types].xml", "xl/workbook.xml", "a.txt"]), rng.randbytes(200))
        yield f"zip{i}", ".xlsx", buffer.getvalue()
    for i in range(20):  # a huge field (beyond the CSV reader's limit) or a huge header
        yield f"longfield{i}", ".csv", ("candidate_id,value\nC000001," + "9" * rng.randint(130_000, 300_000)).encode()


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    table = tmp / "table.csv"
    pd.DataFrame({"smiles": TABLE, "value": [_value(s) for s in TABLE]}).to_csv(table, index=False)
    campaign = _campaign(_settings(tmp, table, "campaign.mode=propose"), Parts())
    campaign.import_seed_data()
    campaign.propose()
    yield campaign
    campaign.close()


def _ingest(campaign, path):
    """Ingest `path`: refused with a clear message and nothing stored, or stored whole."""
    store = campaign.store
    before = (store.n_records(), len(store.molecules()))
    try:
        summary = campaign.ingest(path)
    except ResultsFileError as exc:
        assert (store.n_records(), len(store.molecules())) == before, path.name
        message = str(exc)
        assert message.startswith(f"{path.name}: ") and "nothing ingested" in message
        assert exc.problems and all(p and p.isprintable() for p in exc.problems), exc.problems
        return "refused"
    assert store.n_records() == before[0] + summary.stored, path.name
    return "stored"


def test_a_thousand_hostile_files_are_each_refused_clearly_or_stored_whole(campaign, tmp_path):
    ids = list(campaign.store.proposals(1)["candidate_id"]) + ["C000001"]
    outcomes = {"refused": 0, "stored": 0}
    for name, suffix, data in _cases(ids):
        path = tmp_path / f"{name}{suffix}"
        path.write_bytes(data)
        outcomes[_ingest(campaign, path)] += 1
    assert sum(outcomes.values()) >= 1000
    assert outcomes["refused"] > 900 and outcomes["stored"] > 0, outcomes  # both paths were taken


def test_a_file_too_large_and_a_million_rows_are_refused_before_parsing(campaign, tmp_path):
    big = tmp_path / "big.csv"
    with open(big, "wb") as handle:
        handle.write(b"candidate_id,value\n")
        handle.truncate(labio.MAX_FILE_BYTES + 1)
    with pytest.raises(ResultsFileError, match="at most 50 MB"):
        campaign.ingest(big)
    rows = tmp_path / "million.csv"
    rows.write_text("candidate_id,value\n" + "C000001,1.5\n" * 1_000_000, encoding="utf-8")
    before = campaign.store.n_records()
    with pytest.raises(ResultsFileError, match="more than 100000 rows"):
        campaign.ingest(rows)
    assert campaign.store.n_records() == before
