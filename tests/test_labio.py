import csv
import datetime as dt
import os

import pandas as pd
import pytest
from openpyxl import load_workbook

from discovery.campaign.labio import (
    LAB_COLUMNS,
    ResultRow,
    ResultsFileError,
    read_results,
    write_proposals,
)
from discovery.campaign.ledger import STORED_COLUMNS, IngestRules
from discovery.chem import parse_molecule
from discovery.tables import PROPOSALS

SMILES = {
    "C000001": "CCO",
    "C000002": "N#Cc1ccccc1",
    "C000003": "[*]CC([*])c1ccccc1",
    "C000004": "CC(C)=O",
}
NO_MEASUREMENTS = pd.DataFrame({c: pd.Series(dtype=float if c == "value" else object) for c in STORED_COLUMNS})


def stored(rows):
    """The store's records after storing `rows` (each current, none replacing another)."""
    return pd.DataFrame({"measurement_id": range(1, len(rows) + 1), "identity": [r.identity for r in rows],
                         "property": [r.key for r in rows], "outcome": "measured", "value": [r.value for r in rows], "reason": None, "replaces": None,
                         "current": True})


@pytest.fixture(scope="module")
def candidates():
    rows = []
    for cid, smiles in SMILES.items():
        mol = parse_molecule(smiles)
        rows.append({"candidate_id": cid, "smiles": mol.smiles, "identity": mol.identity})
    return pd.DataFrame(rows)


def identity(cid, candidates):
    return candidates.set_index("candidate_id").loc[cid, "identity"]


@pytest.fixture
def proposals(candidates):
    n = len(candidates)
    return pd.DataFrame(
        {
            "rank": range(1, n + 1),
            "candidate_id": candidates["candidate_id"],
            "smiles": candidates["smiles"],
            "mean": [1.234567, 12345.678, -0.000123456, 2.0],
            "lower_90": [0.5, 12000.0, -0.001, 1.0],
            "upper_90": [2.0, 12600.0, 0.001, 3.0],
            "prob_beat_best": [0.12345, 0.5, 0.01, 0.9],
            "prob_feasible": [0.9, float("nan"), 0.5, 1.0],
            "acquisition_value": [1.23456e-8, 0.3, 0.2, 0.1],
            "nearest_measured_id": ["M1", "M2", None, "M1"],
            "nearest_measured_smiles": ["CC", "c1ccccc1", None, "CC"],
            "nearest_similarity": [0.3333333, 0.5, float("nan"), 0.25],
            "outside_domain": [False, False, True, False],
            "pool": ["enumerated", "enumerated", "polymer", "enumerated"],
        }
    )


def write_csv(path, header, rows, encoding="utf-8"):
    with open(path, "w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def problems_of(path, candidates, measured=NO_MEASUREMENTS):
    with pytest.raises(ResultsFileError) as info:
        read_results(path, candidates=candidates, measured=measured)
    message = str(info.value)
    for problem in info.value.problems:
        assert problem in message
    return info.value.problems


def fill_csv(path, values):
    """What the lab does: open the proposals CSV, fill some cells, save it under the same name."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    for cid, fields in values.items():
        for column, value in fields.items():
            table.loc[table.candidate_id == cid, column] = value
    table.to_csv(path, index=False)


def test_write_proposals_writes_round_files_with_lab_columns(proposals, tmp_path):
    paths = write_proposals(proposals, tmp_path / "proposals", 3, target="dielectric_constant")
    assert [p.name for p in paths] == ["round_003.csv", "round_003.xlsx"]
    assert sorted(os.listdir(tmp_path / "proposals")) == ["round_003.csv", "round_003.xlsx"]  # no temp files left

    table = pd.read_csv(paths[0], dtype=str, keep_default_na=False)
    assert list(table.columns) == [*PROPOSALS.names[:3], "target", *PROPOSALS.names[3:], "pool", *LAB_COLUMNS]
    assert set(table.target) == {"dielectric_constant"}
    assert table["mean"].tolist() == ["1.235", "12350.0", "-0.0001235", "2.0"]
    assert table["acquisition_value"][0] == "1.235e-08"
    assert table["nearest_similarity"].tolist() == ["0.3333", "0.5", "", "0.25"]
    assert table["pool"].tolist() == proposals["pool"].tolist()
    assert (table[list(LAB_COLUMNS)] == "").all().all()

    sheet = load_workbook(paths[1]).active
    header = [c.value for c in sheet[1]]
    assert header == list(table.columns)
    assert all(c.font.bold for c in sheet[1])
    assert sheet.column_dimensions["C"].width >= len("[*]CC([*])c1ccccc1")
    assert sheet["E2"].value == 1.235
    assert sheet.cell(row=4, column=header.index("nearest_similarity") + 1).value is None


def test_write_proposals_without_xlsx_and_rejects_bad_input(proposals, tmp_path):
    assert [p.name for p in write_proposals(proposals, tmp_path, 12, target="y", xlsx=False)] == ["round_012.csv"]
    with pytest.raises(ValueError, match="rank"):
        write_proposals(proposals.drop(columns="rank"), tmp_path, 1, target="y")
    with pytest.raises(ValueError, match="Value"):
        write_proposals(proposals.assign(Value=1.0), tmp_path, 1, target="y")


def test_csv_round_trip_returns_filled_rows_and_skips_unmeasured(proposals, candidates, tmp_path, caplog):
    csv_path = write_proposals(proposals, tmp_path, 1, target="y", xlsx=False)[0]
    fill_csv(
        csv_path,
        {
            "C000001": {"value": "3.25", "uncertainty": "0.1", "date": "2024-05-01", "notes": "dried 2 h"},
            "C000003": {"value": "-1e-3"},
        },
    )
    with caplog.at_level("INFO", logger="discovery.campaign.labio"):
        rows, already_stored = read_results(csv_path, candidates=candidates, measured=NO_MEASUREMENTS)
    assert "2 row(s) without a value (not measured) skipped" in caplog.text
    assert already_stored == 0
    assert rows == [
        ResultRow(2, "C000001", "CCO", identity("C000001", candidates), 3.25, 0.1, "2024-05-01", "dried 2 h"),
        ResultRow(4, "C000003", "[*]CC([*])c1ccccc1", identity("C000003", candidates), -0.001, None, None, None),
    ]


def test_several_properties_round_trip_with_partial_rows(proposals, candidates, tmp_path):
    paths = write_proposals(proposals, tmp_path, 1, target="permittivity", measured_properties=["bp_k"], xlsx=False)
    table = pd.read_csv(paths[0], dtype=str, keep_default_na=False)
    assert list(table.columns)[-2:] == ["bp_k_measured", "bp_k_uncertainty"]
    fill_csv(paths[0], {
        "C000001": {"value": "3.25"},  # the target only: the boiling point stays pending
        "C000002": {"value": "25", "bp_k_measured": "464.1", "bp_k_uncertainty": "2"},
        "C000003": {"bp_k_measured": "418"},  # the boiling point only
    })
    rows, _ = read_results(paths[0], candidates=candidates, measured=NO_MEASUREMENTS, properties=["bp_k"])
    assert [(r.candidate_id, r.property_name, r.value, r.uncertainty) for r in rows] == [
        ("C000001", None, 3.25, None), ("C000002", None, 25.0, None), ("C000002", "bp_k", 464.1, 2.0),
        ("C000003", "bp_k", 418.0, None)]
    records = stored(rows)
    assert read_results(paths[0], candidates=candidates, measured=records, properties=["bp_k"]) == ([], 4)
    # without the campaign's further properties their columns are the lab's own, ignored
    assert [r.candidate_id for r in read_results(paths[0], candidates=candidates, measured=NO_MEASUREMENTS)[0]] == [
        "C000001", "C000002"]

    # a later file: a correction of C000002's boiling point, a retraction of C000003's by its
    # record, and a boiling point a hundred ranges off (a typo until confirmed)
    later = write_csv(tmp_path / "later.csv",
                      ["candidate_id", "value", "bp_k_measured", "action", "reason", "measurement_id"],
                      [["C000002", "", "466.0", "correct", "misread", ""],
                       ["C000003", "", "", "retract", "wrong sample", "4"]])
    rows, _ = read_results(later, candidates=candidates, measured=records, properties=["bp_k"],
                           rules=IngestRules(plausible_ranges=3))
    assert [(r.candidate_id, r.property_name, r.action.value, r.measurement_id) for r in rows] == [
        ("C000002", "bp_k", "correct", 3), ("C000003", "bp_k", "retract", 4)]
    typo = write_csv(tmp_path / "typo.csv", ["candidate_id", "bp_k_measured"], [["C000004", "46410"]])
    with pytest.raises(ResultsFileError, match="bp_k 46410 for C000004 lies .* span 418 to 464.1"):
        read_results(typo, candidates=candidates, measured=records, properties=["bp_k"],
                     rules=IngestRules(plausible_ranges=3))


@pytest.mark.parametrize(("header", "row", "expected"), [
    (["candidate_id", "bp_k_measured"], ["C000001", "4,5"], "row 2: bp_k_measured '4,5' is not a number"),
    (["candidate_id", "bp_k_uncertainty"], ["C000001", "2"], "row 2: bp_k_uncertainty given but bp_k_measured is empty"),
    (["candidate_id", "bp_k_measured", "action", "reason"], ["C000001", "400", "retract", "x"],
     "row 2: a retraction has no value: leave bp_k_measured empty"),
    (["candidate_id", "value", "bp_k_measured", "action", "reason", "measurement_id"],
     ["C000001", "3", "400", "correct", "x", "1"], "row 2: a measurement_id names one record"),
    (["candidate_id", "bp_k_measured", "action", "reason", "measurement_id"], ["C000001", "400", "correct", "x", "1"],
     "row 2: measurement_id 1 is a record of the target, but the row corrects bp_k"),
])
def test_bad_further_property_cells_are_reported_with_their_row(candidates, tmp_path, header, row, expected):
    path = write_csv(tmp_path / "r.csv", header, [row])
    first = stored([ResultRow(2, "C000001", "CCO", identity("C000001", candidates), 3.0, None, None, None)])
    with pytest.raises(ResultsFileError) as info:
        read_results(path, candidates=candidates, measured=first, properties=["bp_k"])
    assert any(p.startswith(expected) for p in info.value.problems), info.value.problems


def test_a_further_property_outside_its_physical_limits_is_refused(candidates, tmp_path):
    path = write_csv(tmp_path / "r.csv", ["candidate_id", "value", "bp_k_measured"], [["C000001", "3", "-12"]])
    rules = IngestRules(property_limits={"bp_k": (0.0, None)})
    with pytest.raises(ResultsFileError, match=r"row 2: bp_k_measured '-12' is outside bp_k's physical limits \[0, inf\]"):
        read_results(path, candidates=candidates, measured=NO_MEASUREMENTS, properties=["bp_k"], rules=rules)
    rows, _ = read_results(path, candidates=candidates, measured=NO_MEASUREMENTS, properties=["bp_k"])
    assert [r.value for r in rows] == [3.0, -12.0]  # without limits, any number


def test_reingesting_stored_results_is_a_no_op_but_new_replicates_are_kept(proposals, candidates, tmp_path):
    csv_path = write_proposals(proposals, tmp_path, 1, target="y", xlsx=False)[0]
    fill_csv(csv_path, {"C000001": {"value": "3.25"}, "C000002": {"value": "7"}})
    rows, _ = read_results(csv_path, candidates=candidates, measured=NO_MEASUREMENTS)
    records = stored(rows)

    assert read_results(csv_path, candidates=candidates, measured=records) == ([], 2)

    # A later file with a different value for C000002 is a replicate measurement.
    fill_csv(csv_path, {"C000002": {"value": "7.5"}})
    rows, already_stored = read_results(csv_path, candidates=candidates, measured=records)
    assert [(r.candidate_id, r.value) for r in rows] == [("C000002", 7.5)]
    assert already_stored == 1


def test_xlsx_round_trip(proposals, candidates, tmp_path):
    xlsx_path = write_proposals(proposals, tmp_path, 2, target="y")[1]
    workbook = load_workbook(xlsx_path)
    sheet = workbook.active
    header = [c.value for c in sheet[1]]
    col = {name: header.index(name) + 1 for name in header}
    sheet.cell(row=3, column=col["value"], value=12)  # a number cell
    sheet.cell(row=3, column=col["date"], value=dt.datetime(2024, 5, 2))  # Excel turns typed dates into dates
    sheet.cell(row=5, column=col["value"], value="0.5")  # a number typed as text
    sheet.cell(row=5, column=col["uncertainty"], value=0.05)
    workbook.save(xlsx_path)

    rows, already_stored = read_results(xlsx_path, candidates=candidates, measured=NO_MEASUREMENTS)
    assert already_stored == 0
    assert [(r.row, r.candidate_id, r.value, r.uncertainty, r.date) for r in rows] == [
        (3, "C000002", 12.0, None, "2024-05-02"),
        (5, "C000004", 0.5, 0.05, None),
    ]


def test_rows_by_smiles_match_known_candidates_or_are_new_molecules(candidates, tmp_path):
    path = write_csv(
        tmp_path / "r.csv",
        ["SMILES", " Value "],
        [["OCC", "1.5"], ["*C(c1ccccc1)C*", "2.5"], ["CCCCCCO", "3.5"]],
    )
    rows, _ = read_results(path, candidates=candidates, measured=NO_MEASUREMENTS)
    assert [(r.row, r.candidate_id, r.smiles) for r in rows] == [
        (2, "C000001", "CCO"),
        (3, "C000003", "[*]CC([*])c1ccccc1"),
        (4, None, "CCCCCCO"),
    ]
    assert rows[2].identity == parse_molecule("CCCCCCO").identity


def test_headers_are_case_and_space_insensitive_and_extra_columns_ignored(candidates, tmp_path):
    path = write_csv(
        tmp_path / "r.csv",
        ["  Candidate ID ", "VALUE", "Uncertainty", "operator", "Notes"],
        [["C000002", "4", "", "ann", " repeat of batch 7 "]],
    )
    rows, _ = read_results(path, candidates=candidates, measured=NO_MEASUREMENTS)
    assert [(r.candidate_id, r.value, r.uncertainty, r.notes) for r in rows] == [
        ("C000002", 4.0, None, "repeat of batch 7")
    ]


def test_utf8_bom_and_tsv_are_accepted(candidates, tmp_path):
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffcandidate_id,value,notes\r\nC000001,1.0,größer\r\n".encode())
    rows, _ = read_results(bom, candidates=candidates, measured=NO_MEASUREMENTS)
    assert [(r.candidate_id, r.notes) for r in rows] == [("C000001", "größer")]

    tsv = tmp_path / "r.tsv"
    tsv.write_text("candidate_id\tvalue\nC000004\t2\n", encoding="utf-8")
    assert [r.candidate_id for r in read_results(tsv, candidates=candidates, measured=NO_MEASUREMENTS)[0]] == [
        "C000004"
    ]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_utf16_is_rejected(candidates, tmp_path, encoding):
    path = write_csv(tmp_path / "r.csv", ["candidate_id", "value"], [["C000001", "1"]], encoding=encoding)
    assert problems_of(path, candidates) == ["not UTF-8 text; save the file as CSV UTF-8"]


def test_latin1_is_rejected(candidates, tmp_path):
    path = write_csv(tmp_path / "r.csv", ["candidate_id", "value", "notes"], [["C000001", "1", "größer"]], "latin-1")
    assert problems_of(path, candidates) == ["not UTF-8 text; save the file as CSV UTF-8"]


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\xef\xbb\xbf"])
def test_empty_file_is_rejected(candidates, tmp_path, content):
    path = tmp_path / "r.csv"
    path.write_bytes(content)
    [problem] = problems_of(path, candidates)
    assert "file is empty" in problem


def test_file_without_values_is_rejected(proposals, candidates, tmp_path):
    csv_path = write_proposals(proposals, tmp_path, 1, target="y", xlsx=False)[0]
    [problem] = problems_of(csv_path, candidates)
    assert problem.startswith("no measured values")


@pytest.mark.parametrize(
    "header, expected",
    [
        (["candidate_id", "result"], "found 'candidate_id', 'result'"),
        (["value", "name"], "at least one of 'candidate_id', 'smiles'"),
        (["candidate_id;value"], "separated by ';'"),
    ],
)
def test_missing_columns_are_named(candidates, tmp_path, header, expected):
    path = write_csv(tmp_path / "r.csv", header, [["C000001"] * len(header)])
    [problem] = problems_of(path, candidates)
    assert problem.startswith("missing column(s): expected 'value'")
    assert expected in problem


def test_duplicate_column_is_rejected(candidates, tmp_path):
    path = write_csv(tmp_path / "r.csv", ["candidate_id", "value", "Value"], [["C000001", "1", "2"]])
    assert problems_of(path, candidates) == ["column 'value' appears more than once (columns B, C)"]


def test_unsupported_file_type_is_rejected(candidates, tmp_path):
    path = tmp_path / "r.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    [problem] = problems_of(path, candidates)
    assert "unsupported file type '.xls'" in problem


def test_corrupt_xlsx_is_rejected(candidates, tmp_path):
    path = tmp_path / "r.xlsx"
    path.write_text("candidate_id,value\n")
    [problem] = problems_of(path, candidates)
    assert "not a readable .xlsx file" in problem


@pytest.mark.parametrize(
    "row, expected",
    [
        (["C999999", "", "1"], "row 3: unknown candidate_id 'C999999'"),
        (["C000001", "", "abc"], "row 3: value 'abc' is not a number"),
        (["C000001", "", "3,14"], "row 3: value '3,14' is not a number (use a decimal point"),
        (["C000001", "", "nan"], "row 3: value 'nan' is not a finite number"),
        (["C000001", "", "-inf"], "row 3: value '-inf' is not a finite number"),
        (["C000001", "", "1_000"], "row 3: value '1_000' is not a number"),
        (["C000001", "", "1", "-0.1"], "row 3: uncertainty '-0.1' is negative"),
        (["C000001", "", "1", "x"], "row 3: uncertainty 'x' is not a number"),
        (["C000001", "", "", "0.1"], "row 3: uncertainty given but value is empty"),
        (["C000001", "", "1", "", "01/05/2024"], "row 3: date '01/05/2024' is not a date written YYYY-MM-DD"),
        (["C000001", "", "1", "", "2024-02-30"], "row 3: date '2024-02-30' is not a date written YYYY-MM-DD"),
        (["C000001", "CCN", "1"], "row 3: candidate_id C000001 is CCO but the smiles column has 'CCN'"),
        (["", "C1CC", "1"], "row 3: SMILES 'C1CC' cannot be used: unparsable SMILES"),
        (["", "[*]CC", "1"], "row 3: SMILES '[*]CC' cannot be used: polymer repeat unit needs exactly two"),
        (["", "", "1"], "row 3: value given but neither candidate_id nor smiles"),
    ],
)
def test_bad_row_is_reported_with_its_row_number(candidates, tmp_path, row, expected):
    header = ["candidate_id", "smiles", "value", "uncertainty", "date"]
    path = write_csv(tmp_path / "r.csv", header, [["C000002", "", "1"], row])
    [problem] = problems_of(path, candidates)
    assert problem.startswith(expected)


def test_repeats_inside_one_file_are_rejected(candidates, tmp_path):
    rows = [
        ["C000001", "1.0"],  # row 2
        ["C000002", "3.1"],  # row 3
        ["C000001", "1"],  # row 4: same value again
        ["", "4.2", "N#Cc1ccccc1"],  # row 5: C000002 by SMILES, another value
    ]
    path = write_csv(tmp_path / "r.csv", ["candidate_id", "value", "smiles"], rows)
    problems = problems_of(path, candidates)
    assert problems[0].startswith("row 4 repeats row 2")
    assert problems[1].startswith("conflicting repeat: rows 3 and 5 give 3.1 and 4.2 for C000002")
    assert len(problems) == 2


def test_every_problem_in_a_file_is_reported_and_nothing_returned(candidates, tmp_path):
    rows = [
        ["C000001", "1.0", ""],  # row 2: fine
        ["C999999", "abc", "yesterday"],  # row 3: three problems
        [],  # row 4: blank line, ignored
        ["C000002", "", ""],  # row 5: not measured
        ["C000004", "inf", ""],  # row 6
        ["C000001", "2.0", ""],  # row 7: conflicts with row 2
    ]
    path = write_csv(tmp_path / "r.csv", ["candidate_id", "value", "date"], rows)
    problems = problems_of(path, candidates)
    assert problems == [
        "row 3: value 'abc' is not a number",
        "row 3: date 'yesterday' is not a date written YYYY-MM-DD",
        "row 3: unknown candidate_id 'C999999'",
        "row 6: value 'inf' is not a finite number",
        "conflicting repeat: rows 2 and 7 give 1 and 2 for C000001 "
        "(average replicates into one row, or send them in separate files)",
    ]


def test_candidates_and_measured_must_have_their_columns(candidates, tmp_path):
    path = write_csv(tmp_path / "r.csv", ["candidate_id", "value"], [["C000001", "1"]])
    with pytest.raises(ValueError, match="identity"):
        read_results(path, candidates=candidates.drop(columns="identity"), measured=NO_MEASUREMENTS)
    with pytest.raises(ValueError, match="value"):
        read_results(path, candidates=candidates, measured=NO_MEASUREMENTS.drop(columns="value"))


def test_values_outside_the_physical_limits_are_rejected(candidates, tmp_path):
    """A relative permittivity of 0.5 is a typo: with limits, it is a problem of its row."""
    header = ["candidate_id", "smiles", "value"]
    path = write_csv(tmp_path / "r.csv", header, [["C000001", "", "0.5"], ["C000002", "", "1"]])
    with pytest.raises(ResultsFileError) as info:
        read_results(path, candidates=candidates, measured=NO_MEASUREMENTS, rules=IngestRules(limits=(1.0, None)))
    [problem] = info.value.problems
    assert problem.startswith("row 2: value '0.5' is outside the property's physical limits [1, inf]")
    # inclusive limits, and none by default
    rows, _ = read_results(path, candidates=candidates, measured=NO_MEASUREMENTS, rules=IngestRules(limits=(0.5, 1.0)))
    assert [r.value for r in rows] == [0.5, 1.0]
    assert len(read_results(path, candidates=candidates, measured=NO_MEASUREMENTS)[0]) == 2
