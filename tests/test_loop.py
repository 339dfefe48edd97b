"""The campaign loop, store and backtest in-process, with fast collaborators: RDKit descriptors
instead of GFN2-xTB and a conjugate Bayesian linear model instead of the horseshoe sampler (the
loop's logic is what is tested here; tests/test_campaign.py runs the real engine end to end)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from rdkit import Chem
from rdkit.Chem import Crippen, Descriptors

from discovery.campaign.backtest import backtest_metrics, initial_set, pareto_metrics
from discovery.campaign.loop import Campaign, Collaborators
from discovery.campaign.reporting import write_report
from discovery.campaign.settings import RunSettings
from discovery.campaign.store import CampaignStore, RoundStatus
from discovery.chem import MoleculeError, parse_molecule
from discovery.model import Capabilities, Prediction, PropertyModel
from discovery.paths import PROJECT_ROOT
from discovery.pool import Pool, PoolSummary
from discovery.report import ReportOptions
from discovery.tables import PROPOSALS

ALKANES = ["C" * k for k in range(1, 9)]
ALCOHOLS = ["C" * k + "O" for k in range(1, 9)]
AMINES = ["C" * k + "N" for k in range(1, 9)]
ETHERS = ["C" * k + "OC" for k in range(1, 9)]
NITRILES = ["C" * k + "C#N" for k in range(1, 9)]
KETONES = ["C" * k + "C(C)=O" for k in range(1, 9)]
TABLE = ALKANES + ALCOHOLS + AMINES + ETHERS + NITRILES + KETONES


def _value(smiles: str) -> float:
    mol = Chem.MolFromSmiles(smiles)
    return float(Crippen.MolLogP(mol) + 0.3 * Descriptors.TPSA(mol) / 10)


class Toy(PropertyModel):
    """Bayesian linear regression with a fixed N(0, 10²) prior and the noise SD known (plus the
    lab's known SD of each measurement): the exact posterior in closed form, so a fit takes
    microseconds."""

    capabilities = Capabilities(posterior_draws=True, persistence=True, descriptors=True, known_noise=True)
    columns = ("logp", "tpsa", "heavy_atoms")
    fits = 0  # fits done, in this process
    last_fit: tuple = ()  # (X, y, noise_sd) of the last fit, in this process

    def __init__(self, noise: float = 0.3, n_draws: int = 64, seed: int = 0) -> None:
        self.noise, self.n_draws, self.seed = noise, n_draws, seed

    def _design(self, X: pd.DataFrame) -> np.ndarray:
        return np.column_stack([np.ones(len(X)), X[list(self.columns)].to_numpy(float)])

    def _fit(self, X: pd.DataFrame, y: np.ndarray, noise_sd: np.ndarray | None) -> None:
        Toy.fits += 1
        Toy.last_fit = (X, y, noise_sd)
        A = self._design(X)
        weight = 1.0 / (self.noise**2 + (0.0 if noise_sd is None else noise_sd**2))
        precision = (A * np.broadcast_to(weight, len(y))[:, None]).T @ A + np.eye(A.shape[1]) / 100.0
        self.cov_ = np.linalg.inv(precision)
        self.mean_ = self.cov_ @ A.T @ (weight * y)
        rng = np.random.default_rng(self.seed)
        self.draws_ = rng.multivariate_normal(self.mean_, self.cov_, size=self.n_draws)

    def _predict(self, X, n_draws, noise_seed, for_acquisition) -> Prediction:
        latent = self.draws_ @ self._design(X).T
        observed = latent + self.noise * np.random.default_rng(noise_seed).standard_normal(latent.shape)
        return Prediction(latent.mean(0), observed.std(0), latent.std(0), latent, observed)

    def _save_state(self, directory: Path) -> dict:
        np.savez(directory / "toy.npz", draws=self.draws_)
        return {}

    def _load_state(self, directory: Path, state: dict) -> None:
        with np.load(directory / "toy.npz") as data:
            self.draws_ = data["draws"]


class Parts:
    """Fast collaborators, with switches that make a step fail once (a killed run) and counters."""

    def __init__(self, bad: frozenset[str] = frozenset()) -> None:
        self.bad = bad  # SMILES the featuriser cannot handle
        self.fail_at: str | None = None
        self.featurised = 0

    def featurizer(self, smiles):
        if self.fail_at == "featurise_pool" and len(smiles) > 20:
            self.fail_at = None
            raise KeyboardInterrupt("killed while featurising the pool")
        rows = []
        for text in smiles:
            self.featurised += 1
            row = {"input": text, "smiles": "", "identity": "", "is_polymer": False, "logp": np.nan, "tpsa": np.nan,
                   "heavy_atoms": np.nan, "gap_ev": np.nan, "status": "ok", "error": "", "note": ""}
            try:
                molecule = parse_molecule(text)
            except MoleculeError as exc:
                rows.append({**row, "status": "invalid", "error": exc.reason})
                continue
            row |= {"smiles": molecule.smiles, "identity": molecule.identity}
            if text in self.bad:
                rows.append({**row, "status": "failed", "error": "SCF did not converge"})
                continue
            mol = Chem.MolFromSmiles(molecule.smiles)
            # a stand-in for the GFN2-xTB gap, a computed property: smaller for larger molecules
            rows.append({**row, "logp": Crippen.MolLogP(mol), "tpsa": Descriptors.TPSA(mol),
                         "heavy_atoms": float(mol.GetNumHeavyAtoms()), "gap_ev": 12.0 - mol.GetNumHeavyAtoms()})
        return pd.DataFrame(rows)

    def model_factory(self, seed):
        if self.fail_at == "fit":
            self.fail_at = None
            raise KeyboardInterrupt("killed before the fit")
        return Toy(seed=seed)

    def pool_generator(self, seeds, exclude, seed):
        """A few generated candidates the lookup table cannot answer (longer chains)."""
        if self.fail_at == "generate_pool":
            self.fail_at = None
            raise KeyboardInterrupt("killed while generating the pool")
        molecules = [parse_molecule("C" * k + "O") for k in range(10, 14)]
        rows = [(m.smiles, m.identity, "mutation", "") for m in molecules if m.identity not in exclude]
        candidates = pd.DataFrame(rows, columns=["smiles", "identity", "origin", "parent"]).assign(sa_score=1.0)
        return Pool(candidates, PoolSummary(kind="molecule", seed=seed))


@pytest.fixture()
def lookup(tmp_path):
    path = tmp_path / "table.csv"
    pd.DataFrame({"smiles": TABLE, "value": [_value(s) for s in TABLE]}).to_csv(path, index=False)
    return path


def _config(tmp_path, lookup, *overrides) -> dict:
    """The composed run config of a small backtest campaign in `tmp_path / "runs"`."""
    with initialize_config_dir(config_dir=str(PROJECT_ROOT / "conf"), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[
            "campaign=backtest", f"campaign.lookup.path={lookup}", "campaign.initial.n=12", "campaign.rounds=3",
            "acquisition.batch_size=4", "acquisition=qlognei", f"state_dir={tmp_path / 'runs'}", "progress=false",
            *overrides,
        ])
    return OmegaConf.to_container(cfg, resolve=True)


def _settings(tmp_path, lookup, *overrides) -> RunSettings:
    return RunSettings.from_config(_config(tmp_path, lookup, *overrides))


def _campaign(settings: RunSettings, parts: Parts) -> Campaign:
    settings.campaign_dir.mkdir(parents=True, exist_ok=True)
    return Campaign(settings, Collaborators(
        store=CampaignStore(settings.campaign_dir / "state.sqlite"), featurizer=parts.featurizer,
        model_factory=parts.model_factory, pool_generator=parts.pool_generator, reporter=None,
    ))


def _run(settings, parts) -> Campaign:
    campaign = _campaign(settings, parts)
    campaign.import_seed_data()
    campaign.simulate()
    return campaign


def test_a_backtest_proposes_each_molecule_at_most_once_and_never_a_measured_one(tmp_path, lookup):
    campaign = _run(_settings(tmp_path, lookup), Parts())
    proposals = campaign.store.proposals()
    measurements = campaign.store.measurements()
    assert list(proposals["round"].unique()) == [1, 2, 3] and len(proposals) == 12
    assert proposals["identity"].is_unique
    for r in (1, 2, 3):  # nothing proposed in round r was measured before it
        before = set(measurements.loc[measurements["round"] < r, "identity"])
        assert not before & set(proposals.loc[proposals["round"] == r, "identity"])
    PROPOSALS.check(campaign.store.proposals(1))
    assert (proposals["lower_90"] <= proposals["mean"]).all() and (proposals["mean"] <= proposals["upper_90"]).all()
    # the lookup answered every proposal; the loop found better molecules than the initial set had
    assert len(measurements) == 12 + 12
    initial = measurements.loc[measurements["round"] == 0, "value"].max()
    assert measurements["value"].max() > initial
    campaign.close()


@pytest.mark.parametrize(("kill", "reached"), [
    ("fit", RoundStatus.STARTED), ("generate_pool", RoundStatus.FITTED), ("featurise_pool", RoundStatus.POOLED),
])
def test_a_killed_round_resumes_from_its_last_step_to_the_same_proposals(tmp_path, lookup, kill, reached):
    reference = _run(_settings(tmp_path / "reference", lookup, "campaign.generate_pool=true"), Parts()).store.proposals()
    parts = Parts()
    settings = _settings(tmp_path / "killed", lookup, "campaign.generate_pool=true")
    campaign = _campaign(settings, parts)
    campaign.import_seed_data()
    parts.fail_at = kill
    with pytest.raises(KeyboardInterrupt):
        campaign.propose(wait_for_results=False)
    assert campaign.store.latest_round().status is reached
    fits_before = Toy.fits
    campaign.simulate()
    resumed = campaign.store.proposals()
    pd.testing.assert_frame_equal(resumed[["round", "rank", "identity"]], reference[["round", "rank", "identity"]])
    np.testing.assert_allclose(resumed["mean"], reference["mean"])
    if reached is not RoundStatus.STARTED:  # the saved fit was loaded, not refitted
        assert Toy.fits == fits_before + 2  # rounds 2 and 3 only
    campaign.close()


def test_a_proposed_round_waits_for_the_lab(tmp_path, lookup):
    settings = _settings(tmp_path, lookup, "campaign.mode=propose")
    parts = Parts()
    campaign = _campaign(settings, parts)
    campaign.import_seed_data()
    fits_before = Toy.fits
    first = campaign.propose()
    again = campaign.propose()
    assert not first.waiting and again.waiting and again.round == first.round == 1
    assert Toy.fits == fits_before + 1 and len(campaign.store.rounds()) == 1
    campaign.close()


def test_failures_are_recorded_and_the_round_goes_on(tmp_path, lookup):
    table = pd.read_csv(lookup)
    table.loc[len(table)] = ["not a smiles", 1.0]
    table.to_csv(lookup, index=False)
    bad = frozenset({"CCCCCCCO", "CCCCC#N"})  # QM "fails" for these two
    campaign = _run(_settings(tmp_path, lookup), Parts(bad=bad))
    failures = campaign.store.failures()
    assert set(failures["stage"]) == {"featurise"}
    assert {parse_molecule(s).identity for s in bad} <= set(failures["identity"])
    assert not set(campaign.store.proposals()["smiles"]) & {parse_molecule(s).smiles for s in bad}
    assert len(campaign.store.proposals()) == 12  # every round still proposed a full batch
    campaign.close()


def test_round_status_only_moves_forward(tmp_path):
    store = CampaignStore(tmp_path / "state.sqlite")
    store.start_round(1, "hash", 10, 1.0)
    with store.transaction() as db:
        store._advance(1, RoundStatus.POOLED, db)
        store._advance(1, RoundStatus.FITTED, db)  # a refit on resume
    assert store.latest_round().status is RoundStatus.POOLED
    assert RoundStatus.PROPOSED.reached(RoundStatus.FITTED) and not RoundStatus.STARTED.reached(RoundStatus.FITTED)
    with pytest.raises(ValueError, match="proposals lacks column"):
        store.record_proposals(1, pd.DataFrame({"rank": [1]}))
    store.close()


def test_initial_set_and_backtest_metrics_on_a_hand_made_table():
    lookup = pd.DataFrame({"identity": [f"m{i}" for i in range(100)], "smiles": ["C"] * 100,
                           "value": np.arange(100, dtype=float)})
    initial = initial_set(lookup, 10, 0.5, "max", seed=0)
    assert len(initial) == 10 and initial["value"].max() <= 49.5
    assert initial.equals(initial_set(lookup, 10, 0.5, "max", seed=0))
    measurements = pd.DataFrame({"identity": [*initial["identity"], "m80", "m99"],
                                 "value": [*initial["value"], 80.0, 99.0], "round": [0] * 10 + [1, 2]})
    proposals = pd.DataFrame({"round": [1, 2], "rank": [1, 1], "identity": ["m80", "m99"], "mean": [70.0, 95.0],
                              "lower_90": [60.0, 90.0], "upper_90": [85.0, 98.0]})
    metrics = backtest_metrics(lookup, measurements, proposals, "max")
    assert metrics["experiments_to_first_top"] == 2 and metrics["top_found_fraction"] == 1.0
    assert metrics["normalised_best"] == pytest.approx(1.0)
    assert [r["coverage_90"] for r in metrics["rounds"]] == [1.0, 0.0]


def test_a_screened_round_featurises_only_the_shortlist(tmp_path, lookup):
    settings = _settings(tmp_path, lookup, "campaign.generate_pool=true", "pool.screening.method=fingerprint_gp",
                         "pool.screening.shortlist=10", "pool.screening.explore_fraction=0.2", "campaign.rounds=1")
    parts = Parts()
    campaign = _campaign(settings, parts)
    campaign.import_seed_data()
    featurised_before = parts.featurised
    campaign.propose(wait_for_results=False)
    pool = campaign.store.pool(1)
    assert len(pool) == 10
    # the 12 measured molecules are featurised again for the fit, then only the shortlist
    assert parts.featurised - featurised_before == 12 + 10
    assert set(campaign.store.proposals(1)["identity"]) <= set(pool["identity"])
    assert campaign.store.pool_summary(1)["screening"] == {"method": "fingerprint_gp", "screened": 48 - 12 + 4,
                                                           "kept": 10, "kept_by_rank": 8, "kept_at_random": 2}
    campaign.close()


def test_a_computed_constraint_holds_for_every_proposal_and_travels_to_the_lab_file(tmp_path, lookup):
    free = _run(_settings(tmp_path / "free", lookup, "acquisition=ehvi"), Parts())
    free_gaps = 12.0 - free.store.proposals()["smiles"].map(lambda s: Chem.MolFromSmiles(s).GetNumHeavyAtoms())
    assert (free_gaps < 6.0).any()  # unconstrained, the batch reaches for the large molecules
    free.close()
    campaign = _run(_settings(tmp_path / "constrained", lookup, "acquisition=ehvi",
                              "campaign.properties=[{name: gap_ev, at_least: 6.0}]"), Parts())
    proposals = campaign.store.proposals()
    assert len(proposals) == 12 and (proposals["gap_ev"] >= 6.0).all()
    assert list(proposals.columns).index("gap_ev") > list(proposals.columns).index("outside_domain")
    lab_file = pd.read_csv(campaign.folder / "proposals" / "round_003.csv")
    assert (lab_file["gap_ev"] >= 6.0).all() and "value" in lab_file.columns
    campaign.close()


def test_a_computed_objective_makes_the_batch_trade_the_two_off(tmp_path, lookup):
    settings = _settings(tmp_path, lookup, "acquisition=ehvi", "campaign.properties=[{name: gap_ev, direction: max}]",
                         "campaign.rounds=1")
    campaign = _run(settings, Parts())
    proposals = campaign.store.proposals(1)
    # not only the largest molecules (best predicted value) but also small ones (large gap)
    assert proposals["gap_ev"].max() - proposals["gap_ev"].min() >= 3
    campaign.close()


def test_chebyshev_weights_say_which_objective_the_batch_favours(tmp_path, lookup):
    mean_gap = {}
    for weights in ("[1,10]", "[10,1]"):
        settings = _settings(tmp_path / weights.strip("[]").replace(",", "_"), lookup, "acquisition=chebyshev", f"acquisition.weights={weights}",
                             "campaign.properties=[{name: gap_ev, direction: max}]", "campaign.rounds=1")
        campaign = _run(settings, Parts())
        mean_gap[weights] = campaign.store.proposals(1)["gap_ev"].mean()
        campaign.close()
    # weight on the gap: small molecules; weight on the target (grows with size): large ones
    assert mean_gap["[1,10]"] > mean_gap["[10,1]"] + 1.0


def test_a_constraint_no_candidate_meets_stops_the_round_with_a_clear_message(tmp_path, lookup):
    settings = _settings(tmp_path, lookup, "acquisition=pareto_pi", "campaign.properties=[{name: gap_ev, at_least: 50}]")
    campaign = _campaign(settings, Parts())
    campaign.import_seed_data()
    with pytest.raises(ValueError, match=r"no available candidate meets the constraints \(gap_ev >= 50\)"):
        campaign.propose(wait_for_results=False)
    assert not (campaign.folder / "proposals").exists() and campaign.store.proposals().empty
    campaign.close()


@pytest.mark.parametrize(("overrides", "message"), [
    (["campaign.properties=[{name: gap_ev, at_least: 3}]"], "needs an acquisition that weighs several"),
    (["acquisition=ehvi", "campaign.properties=[{name: band_gap, at_least: 3}]"], "not descriptor columns"),
    (["acquisition=ehvi", "campaign.properties=[{name: gap_ev}]"], "either direction"),
    (["acquisition=ehvi", "campaign.properties=[{name: gap_ev, at_least: 3, at_most: 2}]"], "below at_most"),
    (["acquisition=ehvi", "campaign.properties=[{name: gap_ev, column: gap, at_least: 3}]"], "column is for measured"),
    (["acquisition=ehvi", "campaign.properties=[{name: gap_ev, at_least: 3, minimum: 0}]"], "physical limits"),
    (["acquisition=ehvi", "campaign.properties=[{name: bp, source: measured, at_least: 3, minimum: 5, maximum: 1}]"],
     "minimum must be below maximum"),
    (["acquisition=chebyshev", "acquisition.weights=[1,2,3]", "campaign.properties=[{name: gap_ev, direction: max}]"],
     "3 given for 2 objectives"),
])
def test_further_properties_are_validated_at_the_config_boundary(tmp_path, lookup, overrides, message):
    from discovery.config import ConfigError

    with pytest.raises(ConfigError, match=message):
        _settings(tmp_path, lookup, *overrides)


def _polarity(smiles: str) -> float:
    """A stand-in for a second measured property: the topological polar surface area (Å²)."""
    return Descriptors.TPSA(Chem.MolFromSmiles(smiles))


@pytest.fixture()
def lookup_with_polarity(lookup):
    """The lookup table with a second property column, `tpsa_measured`."""
    table = pd.read_csv(lookup)
    table["tpsa_measured"] = table["smiles"].map(_polarity)
    table.to_csv(lookup, index=False)
    return lookup


def test_a_measured_further_property_gets_a_model_of_its_own_in_a_backtest(tmp_path, lookup_with_polarity):
    lookup, polarity = lookup_with_polarity, _polarity
    settings = _settings(tmp_path, lookup, "acquisition=ehvi", "campaign.properties=[{name: polarity, source: measured, "
                         "column: tpsa_measured, at_most: 21.0, unit: A2}]")
    campaign = _run(settings, Parts())
    proposals = campaign.store.proposals()
    assert {"polarity", "polarity_lower_90", "polarity_upper_90"} <= set(proposals.columns)
    assert (proposals["polarity_lower_90"] <= proposals["polarity_upper_90"]).all()
    # the constraint's own model learned polarity from the lookup's answers: amines (26 Å²) and
    # nitriles (24 Å²) would otherwise be among the best picks
    assert (proposals["smiles"].map(polarity) <= 21.0).mean() >= 0.9
    # the lookup answered both properties of the initial set and of every proposal
    assert len(campaign.store.measurements("polarity")) == len(campaign.store.measurements()) == 12 + 12
    lab_file = pd.read_csv(campaign.folder / "proposals" / "round_003.csv")
    assert {"polarity", "polarity_lower_90", "polarity_upper_90", "value"} <= set(lab_file.columns)
    import json

    metrics = json.loads(campaign.write_backtest_metrics().read_text())["pareto"]
    assert metrics["n_feasible"] == 32  # the 8 alkanes, alcohols, ethers and ketones
    assert [r["round"] for r in metrics["hypervolume_fraction"]] == [0, 1, 2, 3]
    campaign.close()


def test_a_lab_campaign_takes_partial_results_of_several_properties(tmp_path, lookup_with_polarity):
    lookup, polarity = lookup_with_polarity, _polarity
    settings = _settings(tmp_path, lookup, "campaign.mode=propose", "acquisition=ehvi",
                         "campaign.properties=[{name: polarity, source: measured, column: tpsa_measured, at_most: 21.0}]")
    settings.campaign_dir.mkdir(parents=True, exist_ok=True)
    parts = Parts()
    campaign = Campaign(settings, Collaborators(
        store=CampaignStore(settings.campaign_dir / "state.sqlite"), featurizer=parts.featurizer,
        model_factory=parts.model_factory, pool_generator=parts.pool_generator,
        reporter=lambda report: write_report(report, settings.campaign_dir / "report.html", ReportOptions()),
    ))
    campaign.import_seed_data()
    first = campaign.propose()
    lab_file = pd.read_csv(first.proposals_path, dtype=str, keep_default_na=False)
    assert {"polarity", "polarity_lower_90", "polarity_upper_90", "prob_meets_constraints", "prob_extends_front",
            "value", "polarity_measured", "polarity_uncertainty"} <= set(lab_file.columns)
    html = first.report_path.read_text()
    assert '<section id="properties">' in html and "P(meets constraints)" in html
    # the lab measured the target of the first two, polarity of the second and third, nothing of the fourth
    a, b, c, d = lab_file["smiles"][:4]
    lab_file.loc[0, "value"] = f"{_value(a):.4f}"
    lab_file.loc[1, ["value", "polarity_measured", "polarity_uncertainty"]] = [f"{_value(b):.4f}", "20.2", "0.5"]
    lab_file.loc[2, "polarity_measured"] = f"{polarity(c):.2f}"
    lab_file.to_csv(first.proposals_path, index=False)
    summary = campaign.ingest(first.proposals_path)
    assert summary.measured == 4
    target, further = campaign.store.measurements(), campaign.store.measurements("polarity")
    assert {a, b} <= set(target["smiles"]) and not {c, d} & set(target["smiles"])
    assert {b, c} <= set(further["smiles"]) and not {a, d} & set(further["smiles"])
    assert further.set_index("smiles").loc[b, "uncertainty"] == 0.5
    assert campaign.ingest(first.proposals_path).stored == 0  # the same file twice stores nothing
    # the lab corrects polarity of the second: only that record is replaced
    correction = tmp_path / "correction.csv"
    pd.DataFrame({"smiles": [b], "polarity_measured": [polarity(b)], "action": ["correct"],
                  "reason": ["typo"]}).to_csv(correction, index=False)
    assert campaign.ingest(correction).corrected == 1
    assert campaign.store.measurements("polarity").set_index("smiles").loc[b, "value"] == pytest.approx(polarity(b))
    assert campaign.store.measurements().set_index("smiles").loc[b, "value"] == pytest.approx(_value(b), abs=1e-4)
    # the next round learns from both and never proposes the molecules measured for either
    second = campaign.propose()
    assert second.round == 2 and not {a, b, c} & set(campaign.store.proposals(2)["smiles"])
    campaign.close()


def test_pareto_metrics_on_a_hand_made_table():
    from discovery.objective import Constraint, Objective

    # a: objective to maximise, b: objective to minimise, g: must be >= 0
    truth = pd.DataFrame({
        "identity": [f"m{i}" for i in range(6)],
        "a": [1.0, 2.0, 3.0, 4.0, 9.0, 0.5],
        "b": [1.0, 2.0, 3.0, 4.0, 0.0, 5.0],
        "g": [1.0, 1.0, 1.0, 1.0, -1.0, 1.0],  # m4 would dominate everything but breaks the constraint
    })
    objectives = [Objective("a", "max"), Objective("b", "min")]
    constraints = [Constraint("g", "at_least", 0.0)]
    # the feasible front is m0..m3 (a and b rise together); m5 is dominated by m0
    measured = pd.DataFrame({"identity": ["m5", "m0", "m4", "m3", "m1", "m2"], "round": [0, 0, 1, 1, 2, 2]})
    proposals = pd.DataFrame({"round": [1, 1, 2, 2], "rank": [1, 2, 1, 2], "identity": ["m4", "m3", "m1", "m2"]})
    metrics = pareto_metrics(truth, measured, proposals, objectives, constraints)
    assert metrics["n_feasible"] == 5
    assert metrics["experiments_to_first_feasible_top"] == 2  # m3: the best feasible a, the 2nd experiment
    fractions = [r["fraction"] for r in metrics["hypervolume_fraction"]]
    assert [r["experiments"] for r in metrics["hypervolume_fraction"]] == [0, 2, 4]
    assert 0 < fractions[0] < fractions[1] < fractions[2] == pytest.approx(1.0)
