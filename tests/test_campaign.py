"""End to end on a tiny campaign through the real command line: propose, wait, reject a bad
results file, ingest, propose again, and resume after SIGKILL with identical proposals."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from report_html import parse_tables

SEED_MOLECULES = {
    "CCCCCC": 1.89, "CCCCCCC": 1.92, "c1ccccc1": 2.28, "Cc1ccccc1": 2.38, "CCOCC": 4.27, "ClCCl": 8.9,
    "CC(C)=O": 20.7, "CCO": 24.3, "CO": 32.6, "CCCCO": 17.3, "CC(=O)OCC": 6.0, "C1CCOC1": 7.5,
    "CCN(CC)CC": 2.4, "ClC(Cl)Cl": 4.8,
}


def command(state: Path, seed_csv: Path, *extra: str) -> list[str]:
    # the descriptor cache is shared by the module's tests (next to the seed file): featurising the
    # ~900 candidates of the campaign's lookup pool once is enough to test the loop
    return [
        sys.executable, "-m", "discovery.run", "campaign=liquid_dielectric",
        f"state_dir={state}", f"cache_path={seed_csv.parent / 'cache.sqlite'}", f"campaign.seed_data={seed_csv}",
        "campaign.name=tiny", "pool.max_candidates=25", "acquisition.batch_size=3", "n_workers=2", "progress=false",
        "model.params.sampler.draws=300", "model.params.calibration.method=none", *extra,
    ]


def run(args: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=600)


def check_report(html: str, proposals: pd.DataFrame, round_number: int) -> None:
    """The campaign's own report: every section, images that decode, the proposals file's numbers."""
    for section in ("summary", "health", "learned", "proposals", "landscape", "progress"):
        assert f'<section id="{section}">' in html
    assert f"tiny · round {round_number}" in html
    pngs = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(pngs) >= 4
    for encoded in pngs:
        Image.open(io.BytesIO(base64.b64decode(encoded, validate=True))).load()
    rows = parse_tables(html)["sortable proposals"]
    assert len(rows) == len(proposals)
    for cells, proposal in zip(rows, proposals.sort_values("rank").itertuples()):
        assert cells[0][1] == str(proposal.rank) and cells[2][1].startswith(proposal.candidate_id)
        sort_keys = {a.get("class", "").split()[-1]: a["data-sort"] for a, _ in cells if "data-sort" in a and a.get("class")}
        assert float(sort_keys["mean"]) == pytest.approx(proposal.mean, rel=1e-3)  # the file keeps 4 digits
        assert float(sort_keys["acquisition"]) == pytest.approx(proposal.acquisition_value, rel=1e-3)
        assert float(sort_keys["prob"]) == pytest.approx(proposal.prob_beat_best, rel=1e-3, abs=1e-6)


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def round_started(db: Path) -> bool:
    try:
        return count(db, "rounds") == 1
    except sqlite3.OperationalError:  # the run has created the file but not yet its tables
        return False


@pytest.fixture(scope="module")
def seed_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("seed") / "seed.csv"
    pd.DataFrame({"smiles": list(SEED_MOLECULES), "relative_permittivity": list(SEED_MOLECULES.values())}).to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_propose_wait_reject_ingest_propose(tmp_path, seed_csv):
    state = tmp_path / "runs"
    folder = state / "tiny"
    db = folder / "state.sqlite"

    first = run(command(state, seed_csv))
    assert first.returncode == 0, first.stderr[-3000:]
    assert "round 1" in first.stdout and "3 proposals written" in first.stdout
    proposals = pd.read_csv(folder / "proposals" / "round_001.csv")
    assert len(proposals) == 3 and proposals["candidate_id"].is_unique
    assert (folder / "proposals" / "round_001.xlsx").exists()
    check_report((folder / "report.html").read_text(encoding="utf-8"), proposals, round_number=1)
    measured_smiles = set(pd.read_csv(seed_csv)["smiles"])
    assert not set(proposals["smiles"]) & measured_smiles

    again = run(command(state, seed_csv))
    assert again.returncode == 0 and "waiting for lab results" in again.stdout
    assert count(db, "rounds") == 1 and count(db, "proposals") == 3

    # liquid_dielectric sets campaign.target_min = 1 (a permittivity is at least 1): the
    # proposals' intervals are clipped there and a lab value below it is a typo
    assert (proposals["lower_90"] >= 1.0).all() and (proposals["mean"] >= 1.0).all()
    bad = proposals.copy()
    bad["value"] = ["12.5", "abc", "0.5"]
    bad.loc[2, "candidate_id"] = "C999999"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    n_measurements = count(db, "measurements")
    rejected = run(command(state, seed_csv, f"ingest={tmp_path / 'bad.csv'}"))
    assert rejected.returncode == 2
    message = rejected.stdout + rejected.stderr
    assert "row 3" in message and "row 4" in message and "nothing" in message
    assert "outside the property's physical limits [1, inf]" in message
    assert count(db, "measurements") == n_measurements and count(db, "rounds") == 1

    good = proposals.copy()
    good["value"] = [30.0, 12.0, None]
    good["uncertainty"] = [1.5, None, None]
    good["status"] = ["", "", "failed"]
    good["reason"] = ["", "", "insoluble in every solvent tried"]
    good.to_csv(tmp_path / "results.csv", index=False)
    second = run(command(state, seed_csv, f"ingest={tmp_path / 'results.csv'}"))
    assert second.returncode == 0, second.stderr[-3000:]
    assert "2 new measurement(s), 1 failed experiment(s)" in second.stdout and "round 2" in second.stdout
    assert count(db, "measurements") == n_measurements + 3
    round2 = pd.read_csv(folder / "proposals" / "round_002.csv")
    html = (folder / "report.html").read_text(encoding="utf-8")
    check_report(html, round2, round_number=2)
    assert "Failed experiments (1)" in html and "insoluble in every solvent tried" in html
    assert not set(round2["candidate_id"]) & set(proposals["candidate_id"])
    assert round2["prob_feasible"].isna().all()  # one failure: no feasibility model yet

    repeat = run(command(state, seed_csv, f"ingest={tmp_path / 'results.csv'}"))
    assert repeat.returncode == 0 and "0 new measurement" in repeat.stdout
    assert count(db, "measurements") == n_measurements + 3 and count(db, "rounds") == 2

    audit = run(command(state, seed_csv, f"audit={tmp_path / 'audit.csv'}"))
    assert audit.returncode == 0 and f"{n_measurements + 3} record(s) written" in audit.stdout, audit.stderr[-3000:]
    history = pd.read_csv(tmp_path / "audit.csv")
    assert len(history) == n_measurements + 3 and count(db, "rounds") == 2  # an audit runs no round
    assert history["outcome"].tolist().count("failed") == 1 and (history["source"] == str(tmp_path / "results.csv")).sum() == 3


@pytest.mark.slow
def test_killed_round_resumes_to_the_same_proposals(tmp_path, seed_csv):
    clean = run(command(tmp_path / "clean", seed_csv))
    assert clean.returncode == 0, clean.stderr[-3000:]
    expected = pd.read_csv(tmp_path / "clean" / "tiny" / "proposals" / "round_001.csv")

    state = tmp_path / "killed"
    db = state / "tiny" / "state.sqlite"
    process = subprocess.Popen(command(state, seed_csv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "OMP_NUM_THREADS": "1"}, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline:  # kill once the round has started and the model is being fitted
        if db.exists() and round_started(db):
            break
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    resumed = run(command(state, seed_csv))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    got = pd.read_csv(state / "tiny" / "proposals" / "round_001.csv")
    pd.testing.assert_frame_equal(got[["candidate_id", "smiles"]], expected[["candidate_id", "smiles"]])
    assert count(db, "rounds") == 1 and count(db, "proposals") == 3
    assert count(db, "measurements") == len(SEED_MOLECULES)


@pytest.mark.slow
def test_an_unreadable_saved_posterior_is_fitted_again_on_resume(tmp_path, seed_csv):
    state = tmp_path / "runs"
    first = run(command(state, seed_csv))
    assert first.returncode == 0, first.stderr[-3000:]
    folder = state / "tiny"
    expected = pd.read_csv(folder / "proposals" / "round_001.csv")
    # as if the run had been killed after the fit and the saved posterior came from an older version
    with sqlite3.connect(folder / "state.sqlite") as conn:
        conn.execute("UPDATE rounds SET status = 'fitted' WHERE round = 1")
        conn.execute("DELETE FROM proposals WHERE round = 1")
    sidecar = folder / "fits" / "round_001" / "model.json"
    sidecar.write_text(sidecar.read_text().replace('"max_error"', '"old_key"'))
    resumed = run(command(state, seed_csv))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "cannot be used" in resumed.stdout + resumed.stderr
    got = pd.read_csv(folder / "proposals" / "round_001.csv")
    pd.testing.assert_frame_equal(got[["candidate_id", "smiles"]], expected[["candidate_id", "smiles"]])
    assert '"max_error"' in sidecar.read_text()  # the refit saved a current posterior


@pytest.mark.slow
def test_backtest_of_three_rounds_writes_the_metrics_for_each_seed_of_a_multirun(tmp_path):
    lookup = pd.read_csv(Path(__file__).resolve().parent.parent / "campaigns" / "liquid_dielectric" / "lookup.csv")
    small = lookup.sample(n=60, random_state=0)
    small.to_csv(tmp_path / "lookup.csv", index=False)
    state = tmp_path / "runs"
    args = [
        sys.executable, "-m", "discovery.run", "-m", "campaign=backtest", f"campaign.lookup.path={tmp_path / 'lookup.csv'}",
        "campaign.lookup.target_column=relative_permittivity", "campaign.initial.n=15", "campaign.rounds=3",
        "acquisition.batch_size=2", f"state_dir={state}", f"cache_path={tmp_path / 'cache.sqlite'}", "n_workers=2",
        "progress=false", "model.params.sampler.method=advi", "model.params.sampler.advi_iterations=3000",
        "model.params.calibration.method=none", "seed=1,2",
    ]
    result = run(args)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    initial = {}
    for seed in (1, 2):  # a Hydra multirun (-m): one campaign per seed, each with its own state
        metrics = json.loads((state / f"backtest_seed{seed}" / "backtest_metrics.json").read_text())
        assert metrics["experiments"] == 6 and len(metrics["rounds"]) == 3
        assert all(len(r["revealed"]) == 2 for r in metrics["rounds"])
        assert 0 <= metrics["top_found_fraction"] <= 1 and metrics["n_table"] == 60
        assert metrics["best_found"] >= metrics["best_initial"]
        db = state / f"backtest_seed{seed}" / "state.sqlite"
        assert count(db, "measurements") == 15 + 6 and count(db, "rounds") == 3
        with sqlite3.connect(db) as conn:
            initial[seed] = {row[0] for row in conn.execute(
                "SELECT mol.identity FROM measurements m JOIN molecules mol USING (candidate_id) WHERE m.round = 0")}
    assert initial[1] != initial[2]  # the seed draws the initial set
    # running it again resumes the finished simulations: nothing new
    again = run(args)
    assert again.returncode == 0
    assert all(count(state / f"backtest_seed{seed}" / "state.sqlite", "measurements") == 21 for seed in (1, 2))


def test_pool_predictions_that_overflow_are_found_and_left_out():
    from discovery.model import Prediction

    draws = np.random.default_rng(0).normal(size=(64, 5)).astype(np.float32)
    draws[3, 1] = np.float32(np.exp(80.0)) * np.float32(1e6)  # a log-scale draw that overflowed float32
    draws[0, 4] = np.nan
    prediction = Prediction(draws.mean(axis=0), draws.std(axis=0), draws.std(axis=0), draws, draws.copy())
    finite = prediction.finite()
    assert finite.tolist() == [True, False, True, True, False]
    kept = prediction.take(finite)
    assert kept.latent_draws.shape == (64, 3) and np.isfinite(kept.latent_draws).all()
    np.testing.assert_array_equal(kept.mean, prediction.mean[[0, 2, 3]])


def test_physical_limits_clip_reported_predictions_and_are_validated():
    from discovery.campaign.settings import CampaignSettings
    from discovery.model import Prediction

    draws = np.random.default_rng(0).normal(1.5, 1.0, size=(200, 4)).astype(np.float32)
    prediction = Prediction(draws.mean(axis=0), draws.std(axis=0), draws.std(axis=0), draws, draws + 0.1)
    assert prediction.clipped(None, None) is prediction
    clipped = prediction.clipped(1.0, None)
    assert clipped.latent_draws.min() == 1.0 and clipped.observation_draws.min() == 1.0
    assert (clipped.mean >= 1.0).all() and (clipped.std < prediction.std).all()
    np.testing.assert_array_equal(clipped.latent_draws[draws > 1.0], draws[draws > 1.0])
    base = {"name": "x", "direction": "max", "seed_data": None, "lookup": None}
    with pytest.raises(ValueError, match="target_min must be below campaign.target_max"):
        CampaignSettings.from_dict({**base, "target_min": 2.0, "target_max": 1.0, "seed_data": "x.csv"})
    with pytest.raises(ValueError, match="campaign.target_min must be a number"):
        CampaignSettings.from_dict({**base, "target_min": "one", "seed_data": "x.csv"})


def test_a_campaign_seed_does_not_change_the_descriptors():
    """Every seed of a backtest reuses the descriptor cache: the conformer seed is a QM setting."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from discovery.campaign.settings import RunSettings
    from discovery.paths import PROJECT_ROOT

    with initialize_config_dir(config_dir=str(PROJECT_ROOT / "conf"), version_base="1.3"):
        runs = [RunSettings.from_config(OmegaConf.to_container(compose(config_name="config", overrides=[f"seed={seed}"]),
                                                                resolve=True)) for seed in (0, 1)]
        explicit = RunSettings.from_config(OmegaConf.to_container(compose(config_name="config", overrides=["qm.seed=5"]),
                                                                  resolve=True))
    assert runs[0].seed != runs[1].seed and runs[0].qm == runs[1].qm
    for polymer in (False, True):
        token = runs[0].qm.cache_token(polymer=polymer)
        assert token == runs[1].qm.cache_token(polymer=polymer) != explicit.qm.cache_token(polymer=polymer)
