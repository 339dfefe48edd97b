"""What happens after the lab's first week, in-process with the fast collaborators of test_loop (real
RDKit, real SQLite): typos refused or corrected, retractions, replicates and their known noise,
failed experiments and the feasibility model, the audit file, old campaign files, formula-safe files."""

from __future__ import annotations

import csv
import sqlite3

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from test_loop import Parts, Toy, _campaign, _settings, lookup  # noqa: F401 (lookup is a fixture)

from discovery.campaign.labio import ResultsFileError, write_proposals
from discovery.campaign.store import SCHEMA_VERSION, CampaignStore
from discovery.tables import PROPOSALS


@pytest.fixture()
def lab(tmp_path, lookup):  # noqa: F811
    """A campaign whose round 1 waits for the lab."""
    campaign = _campaign(_settings(tmp_path, lookup, "campaign.mode=propose"), Parts())
    campaign.import_seed_data()
    campaign.propose()
    yield campaign
    campaign.close()


def results(path, rows):
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def problems(campaign, path, **kwargs):
    before = campaign.store.n_records()
    with pytest.raises(ResultsFileError) as info:
        campaign.ingest(path, **kwargs)
    assert campaign.store.n_records() == before  # nothing stored
    assert "nothing ingested" in str(info.value)
    return info.value.problems


def test_a_typo_is_refused_and_once_stored_it_is_corrected_with_both_versions_kept(lab, tmp_path):
    ids = list(lab.store.proposals(1)["candidate_id"])
    rows = [{"candidate_id": ids[0], "value": "1e308"}, {"candidate_id": ids[1], "value": "2.5"}]
    [problem] = problems(lab, results(tmp_path / "typo.csv", rows))
    assert problem.startswith(f"row 2: value 1e+308 for {ids[0]} lies ") and "measured ranges above the highest" in problem
    assert "confirmed" in problem and "confirm=true" in problem

    # the lab vouches for the value (nobody caught the typo): it is stored, and would be the best
    rows[0]["confirmed"] = "yes"
    typo = results(tmp_path / "typo_confirmed.csv", rows)
    assert lab.ingest(typo).measured == 2
    assert lab.store.measured_molecules()["value"].max() == 1e308

    # the correction replaces it; sending the right value without action=correct would be a replicate
    fix = results(tmp_path / "fix.csv", [{"candidate_id": ids[0], "value": 3.1, "action": "correct",
                                           "reason": "typo: 3.1, not 1e308"}])
    summary = lab.ingest(fix)
    assert (summary.corrected, summary.measured) == (1, 0)
    current = lab.store.measurements().set_index("candidate_id")["value"]
    assert current[ids[0]] == 3.1 and (current < 1e3).all()
    assert lab.training_data().y.max() < 1e3

    history = lab.store.history().set_index("measurement_id")
    old, new = history[history["value"] == 1e308].iloc[0], history[history["value"] == 3.1].iloc[0]
    assert not old["current"] and new["current"]
    assert old["replaced_by"] == new.name and new["replaces"] == old.name
    assert (new["reason"], new["source"], new["source_row"]) == ("typo: 3.1, not 1e308", str(fix), 2)
    assert new["recorded_by"] and new["recorded_at"].endswith("Z")

    # either file again stores nothing, and the typo does not come back
    assert lab.ingest(typo).stored == 0 and lab.ingest(fix).stored == 0
    assert lab.store.measurements().set_index("candidate_id")["value"][ids[0]] == 3.1

    audit = pd.read_csv(lab.write_audit(tmp_path / "audit.csv"))
    assert len(audit) == lab.store.n_records()
    for column in ("measurement_id", "candidate_id", "smiles", "outcome", "value", "uncertainty", "reason", "replaces",
                   "replaced_by", "current", "round", "source", "source_row", "recorded_by", "recorded_at"):
        assert column in audit.columns
    assert audit.loc[audit["value"] == 3.1, "reason"].item() == "typo: 3.1, not 1e308"


def test_replicates_are_separate_rows_with_their_known_noise_and_one_can_be_retracted(lab, tmp_path):
    ids = list(lab.store.proposals(1)["candidate_id"])
    lab.ingest(results(tmp_path / "a.csv", [{"candidate_id": ids[0], "value": 2.0, "uncertainty": 0.2},
                                           {"candidate_id": ids[1], "value": 1.0}]))
    lab.ingest(results(tmp_path / "b.csv", [{"candidate_id": ids[0], "value": 2.4, "uncertainty": 0.1}]))
    training = lab.training_data()
    mine = (training.X["identity"] == lab.store.proposals(1)["identity"][0]).to_numpy()
    np.testing.assert_allclose(training.y[mine], [2.0, 2.4])
    np.testing.assert_allclose(training.noise_sd[mine], [0.2, 0.1])
    assert np.isnan(training.noise_sd[~mine]).all()
    assert training.measured.set_index("candidate_id").loc[ids[0], "value"] == pytest.approx(2.2)

    # the fit gets one row per measurement and the known SDs (NaN: not known, 0)
    lab.propose()
    X, y, noise = Toy.last_fit
    assert len(y) == len(training.y) and noise is not None and sorted(noise[noise > 0]) == [0.1, 0.2]

    two = lab.store.measurements().query("candidate_id == @ids[0]")["measurement_id"].tolist()
    [problem] = problems(lab, results(tmp_path / "c.csv", [{"candidate_id": ids[0], "value": 2.1, "action": "correct",
                                                             "reason": "recalibrated"}]))
    assert f"2 current measurements (ids {two[0]}, {two[1]})" in problem and "measurement_id" in problem
    [problem] = problems(lab, results(tmp_path / "d.csv", [{"candidate_id": ids[0], "action": "retract",
                                                             "measurement_id": two[0], "reason": ""}]))
    assert problem == "row 2: a retraction needs a reason (e.g. 'typo' or 'decomposed on drying')"

    retract = results(tmp_path / "e.csv", [{"candidate_id": ids[0], "action": "retract", "measurement_id": two[0],
                                            "reason": "contaminated sample"}])
    assert lab.ingest(retract).retracted == 1
    assert lab.store.measurements().query("candidate_id == @ids[0]")["value"].tolist() == [2.4]
    assert lab.ingest(retract).stored == 0  # again: already done
    [problem] = problems(lab, results(tmp_path / "f.csv", [{"candidate_id": ids[0], "value": 9, "action": "correct",
                                                             "measurement_id": two[0], "reason": "x"}]))
    assert f"measurement {two[0]} of {ids[0]} was already retracted" in problem


@pytest.mark.parametrize(("row", "expected"), [
    ({"status": "failed", "value": "1", "reason": "x"}, "row 2: a failed experiment has no value: leave value empty"),
    ({"status": "failed"}, "row 2: a failed experiment needs a reason"),
    ({"status": "broken", "value": "1"}, "row 2: status 'broken' is not one of 'ok', 'measured', 'failed' (or empty)"),
    ({"action": "delete", "value": "1"}, "row 2: action 'delete' is not one of 'measure', 'correct', 'retract'"),
    ({"action": "correct", "reason": "typo"}, "row 2: a correction needs the right value, or status failed"),
    ({"action": "retract", "value": "1", "reason": "x"}, "row 2: a retraction has no value"),
    ({"value": "1", "measurement_id": "3"}, "row 2: measurement_id is only for action correct or retract"),
    ({"value": "1", "action": "correct", "reason": "x", "measurement_id": "C1"}, "row 2: measurement_id 'C1' is not"),
    ({"value": "1", "confirmed": "maybe"}, "row 2: confirmed 'maybe' is not one of"),
    ({"value": "1", "action": "correct", "reason": "x", "measurement_id": "99999"},
     "row 2: measurement_id 99999 is not a stored measurement"),
])
def test_rows_that_fail_correct_or_retract_are_checked(lab, tmp_path, row, expected):
    candidate = lab.store.proposals(1)["candidate_id"][0]
    [problem] = problems(lab, results(tmp_path / "r.csv", [{"candidate_id": candidate, **row}]))
    assert problem.startswith(expected), problem


def test_failed_experiments_are_never_proposed_again_and_teach_feasibility_from_three_on(lab, tmp_path):
    def fail(round_number, picks, name):
        proposals = lab.store.proposals(round_number)
        rows = [{"candidate_id": proposals["candidate_id"][k], "status": "failed", "reason": "decomposed"}
                for k in picks]
        rows.append({"candidate_id": proposals["candidate_id"][max(picks) + 1], "value": 1.5})
        summary = lab.ingest(results(tmp_path / name, rows))
        assert (summary.failed, summary.measured) == (len(picks), 1)

    fail(1, [0, 1], "r1.csv")
    failed = lab.store.failed_experiments()
    assert len(failed) == 2 and set(failed["reason"]) == {"decomposed"}
    assert lab.propose().round == 2
    round2 = lab.store.proposals(2)
    assert not set(round2["identity"]) & set(failed["identity"])
    assert round2["prob_feasible"].isna().all()  # two failures: not enough to learn from
    fit_rows = len(Toy.last_fit[1])
    assert fit_rows == len(lab.store.measurements())  # the property model never sees a failure

    fail(2, [0], "r2.csv")
    lab.propose()
    round3 = lab.store.proposals(3)
    assert len(lab.store.failed_experiments()) == 3
    assert not set(round3["identity"]) & set(lab.store.failed_experiments()["identity"])
    assert ((round3["prob_feasible"] > 0) & (round3["prob_feasible"] <= 1)).all()
    # the proposals file carries the probability as the store does
    sent = pd.read_csv(lab.folder / "proposals" / "round_003.csv")
    np.testing.assert_allclose(sent["prob_feasible"], round3["prob_feasible"], rtol=1e-3)

    # a failure recorded by mistake is corrected into a value: the molecule counts as measured
    first = lab.store.failed_experiments()["candidate_id"].iloc[0]
    lab.ingest(results(tmp_path / "r3.csv", [{"candidate_id": first, "value": 0.7, "action": "correct",
                                               "reason": "it was the wrong vial"}]))
    assert first not in set(lab.store.failed_experiments()["candidate_id"])
    assert lab.store.measurements().set_index("candidate_id").loc[first, "value"] == 0.7


V1_SCHEMA = """
CREATE TABLE molecules (candidate_id TEXT PRIMARY KEY, identity TEXT NOT NULL UNIQUE, smiles TEXT NOT NULL,
    origin TEXT NOT NULL, parent TEXT NOT NULL, first_round INTEGER NOT NULL);
CREATE TABLE measurements (id INTEGER PRIMARY KEY AUTOINCREMENT,
    candidate_id TEXT NOT NULL REFERENCES molecules(candidate_id), value REAL NOT NULL, uncertainty REAL, date TEXT,
    notes TEXT, source TEXT NOT NULL, round INTEGER NOT NULL, recorded_unix REAL NOT NULL);
CREATE TABLE proposals (round INTEGER NOT NULL, rank INTEGER NOT NULL,
    candidate_id TEXT NOT NULL REFERENCES molecules(candidate_id), mean REAL NOT NULL, lower_90 REAL NOT NULL,
    upper_90 REAL NOT NULL, prob_beat_best REAL NOT NULL, acquisition_value REAL, nearest_measured_id TEXT NOT NULL,
    nearest_similarity REAL NOT NULL, outside_domain INTEGER NOT NULL, PRIMARY KEY (round, rank),
    UNIQUE (round, candidate_id));
INSERT INTO molecules VALUES ('C000001', 'KEY-A', 'CCO', 'seed', '', 0), ('C000002', 'KEY-B', 'CCN', 'seed', '', 0);
INSERT INTO measurements (candidate_id, value, source, round, recorded_unix) VALUES
    ('C000001', 24.3, 'seed.csv', 0, 1.0), ('C000002', 18.0, 'seed.csv', 0, 1.0), ('C000002', 18.4, 'r1.csv', 1, 2.0);
INSERT INTO proposals VALUES (1, 1, 'C000002', 17.0, 10.0, 25.0, 0.2, -1.5, 'C000001', 0.4, 0);
"""


def test_a_campaign_file_of_the_first_schema_is_upgraded_and_a_newer_one_refused(tmp_path):
    path = tmp_path / "state.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(V1_SCHEMA)
    with CampaignStore(path) as store:
        assert store.measurements()["value"].tolist() == [24.3, 18.0, 18.4]
        assert store.measured_molecules().set_index("candidate_id")["value"].to_dict() == pytest.approx(
            {"C000001": 24.3, "C000002": 18.2})
        assert store.proposals(1)["prob_feasible"].isna().all() and store.proposals(1)["mean"].item() == 17.0
        store.add_measurements([{"candidate_id": "C000001", "value": 24.0, "source": "fix.csv", "round": 1,
                                 "reason": "typo", "replaces": 1}])
        assert store.measurements()["value"].tolist() == [18.0, 18.4, 24.0]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(ValueError, match="newer version of discovery"):
        CampaignStore(path)


def test_a_campaign_file_of_schema_2_gains_the_records_property_and_the_proposals_further_properties(tmp_path):
    path = tmp_path / "state.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(V1_SCHEMA)
    CampaignStore(path).close()  # now the current schema: take it back to 2
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE proposals DROP COLUMN properties_json")
        conn.execute("ALTER TABLE measurements DROP COLUMN property")
        conn.execute("PRAGMA user_version = 2")
    with CampaignStore(path) as store:
        assert store.proposals(1)["mean"].item() == 17.0
        assert "gap_ev" not in store.proposals(1).columns
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
        assert "properties_json" in [row[1] for row in conn.execute("PRAGMA table_info(proposals)")]
        assert "property" in [row[1] for row in conn.execute("PRAGMA table_info(measurements)")]


def test_records_of_several_properties_stay_apart(tmp_path):
    with CampaignStore(tmp_path / "state.sqlite") as store:
        ids = store.register_molecules([("CCO-id", "CCO", "seed", ""), ("CCN-id", "CCN", "seed", "")], 0)
        ethanol, ethylamine = ids["CCO-id"], ids["CCN-id"]
        store.add_measurements([
            {"candidate_id": ethanol, "value": 24.3, "source": "seed.csv", "round": 0},
            {"candidate_id": ethanol, "value": 351.4, "source": "seed.csv", "round": 0, "property": "boiling_point_k"},
            {"candidate_id": ethylamine, "value": 290.0, "source": "seed.csv", "round": 0, "property": "boiling_point_k"},
        ])
        # the boiling point of ethylamine is corrected; its target was never measured
        (old,) = store.measurements("boiling_point_k").query("candidate_id == @ethylamine")["measurement_id"]
        store.add_measurements([{"candidate_id": ethylamine, "value": 289.7, "source": "fix.csv", "round": 1,
                                 "property": "boiling_point_k", "reason": "typo", "replaces": int(old)}])
        assert store.measured_molecules()["candidate_id"].tolist() == [ethanol]
        assert store.measured_molecules()["value"].tolist() == [24.3]
        boiling = store.measured_molecules("boiling_point_k").set_index("candidate_id")["value"].to_dict()
        assert boiling == {ethanol: 351.4, ethylamine: 289.7}
        assert store.measurements("melting_point_k").empty
        history = store.history()
        assert history["property"].tolist() == ["", "boiling_point_k", "boiling_point_k", "boiling_point_k"]
        assert history["current"].tolist() == [True, True, False, True]


def test_a_record_is_replaced_at_most_once_and_a_value_needs_outcome_measured(tmp_path):
    with CampaignStore(tmp_path / "state.sqlite") as store:
        store.register_molecules([("KEY-A", "CCO", "seed", "")], 0)
        store.add_measurements([{"candidate_id": "C000001", "value": 1.0, "source": "a", "round": 0}])
        store.add_measurements([{"candidate_id": "C000001", "value": 2.0, "source": "b", "round": 0, "replaces": 1}])
        with pytest.raises(sqlite3.IntegrityError):
            store.add_measurements([{"candidate_id": "C000001", "value": 3.0, "source": "c", "round": 0, "replaces": 1}])
        with pytest.raises(sqlite3.IntegrityError):
            store.add_measurements([{"candidate_id": "C000001", "value": None, "source": "d", "round": 0}])
        assert store.measurements()["value"].tolist() == [2.0] and store.n_records() == 2


FORMULAS = ["=cmd|' /C calc'!A0", "+SUM(A1:A9)", "-2+3", "@SUM(1)", "\t=1", "\r=1"]


def test_no_cell_of_a_proposals_file_runs_as_a_formula(tmp_path):
    n = len(FORMULAS)
    table = pd.DataFrame({
        "rank": range(1, n + 1), "candidate_id": [f"C{i:06d}" for i in range(n)], "smiles": FORMULAS,
        "mean": -1.5, "lower_90": -2.0, "upper_90": 1.0, "prob_beat_best": 0.5, "prob_feasible": np.nan,
        "acquisition_value": -3.0, "nearest_measured_id": FORMULAS, "nearest_measured_smiles": FORMULAS,
        "nearest_similarity": 0.5, "outside_domain": False, "=HYPERLINK(\"http://x\")": FORMULAS,
    })
    csv_path, xlsx_path = write_proposals(table, tmp_path, 1, target="=1+1")
    with open(csv_path, newline="", encoding="utf-8") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    texts = [c for c in cells if c and not _is_number(c)]
    assert texts and not [c for c in texts if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert "'=cmd|' /C calc'!A0" in cells and "-1.5" in cells  # numbers stay numbers
    sheet = load_workbook(xlsx_path).active
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
            if isinstance(cell.value, str):
                assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r")), cell.coordinate
    assert PROPOSALS.names[0] == "rank"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
