"""A demo round built from a real fitted `BayesianILR`, for the report's tests and screenshot.

The measured molecules are the shipped `polymer_dielectric` seed polymers with their literature
permittivities; a few of them are labelled as measured in rounds 1 and 2 to show campaign
progress. Descriptors are cheap RDKit ones (molar refractivity, weight, polar surface area,
logP) standing in for the xTB descriptors, so the demo fits in seconds; the categories are the
real `discovery.features.categories`. The pool is a small combinatorial library of vinyl
polymers, polyesters, polyamides and polycarbonates. Cross-validated predictions are PSIS-LOO
(one fit, importance-weighted to leave each molecule out), not K refits.
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np
import pandas as pd
from rdkit.Chem import Crippen, Descriptors, rdMolDescriptors

from discovery.chem import Molecule, MoleculeError, parse_molecule
from discovery.features.categories import category_frame
from discovery.features.fingerprints import morgan_fingerprints, tanimoto_similarity
from discovery.model.bayes import BayesianILR
from discovery.paths import resolve_input_file
from discovery.report.data import ReportData, loo_summary

SEED_DATA = "campaigns/polymer_dielectric/seed.csv"
DESCRIPTORS = ("molar_refractivity", "molecular_weight_g_mol", "polar_surface_area", "crippen_logp")
#: Below this Tanimoto similarity to every measured molecule a proposal is flagged outside the domain.
DOMAIN_SIMILARITY = 0.3
FAST_SAMPLER = {"method": "nutpie", "draws": 200, "tune": 200, "chains": 2}
FULL_SAMPLER = {"method": "nutpie", "draws": 1000, "tune": 1000, "chains": 2}

# Side groups of vinyl polymers [*]CC([*])R and backbone pieces for condensation polymers.
_SIDE_GROUPS = (
    "C", "CC", "CCCC", "F", "Cl", "C#N", "CC#N", "OC", "OCC", "OC(C)=O", "C(=O)OC", "C(=O)OCC", "C(=O)OCC(F)(F)F",
    "C(=O)N", "C(=O)N(C)C", "C(C)=O", "C(F)(F)F", "S(C)(=O)=O", "N1CCCC1=O", "OC(=O)C(F)(F)F", "[N+](=O)[O-]",
    "c1ccccc1", "c1ccc(F)cc1", "c1ccc(Cl)cc1", "c1ccc(C#N)cc1", "c1ccc(OC)cc1", "c1ccc([N+](=O)[O-])cc1",
    "c1ccncc1", "c1ccc(C(F)(F)F)cc1", "OCC#N", "CO", "CCl", "CF", "OS(C)(=O)=O", "C(=O)OCCC#N", "n1ccnc1",
)
_GEMINAL = ("C", "F", "Cl", "C#N")
_DIOLS = ("CC", "CCC", "CCCC", "CC(F)(F)C", "c1ccc(cc1)", "c1ccc(cc1)C(C)(C)c1ccc(cc1)", "CC(C#N)C", "CCOCC")
_DIACIDS = ("", "CC", "CCCC", "c1ccc(cc1)", "c1cccc(c1)", "C(F)(F)C(F)(F)", "c1ccc(cc1)S(=O)(=O)c1ccc(cc1)")


def candidate_smiles() -> list[str]:
    """The demo library as written (before parsing and de-duplication)."""
    vinyl = [f"[*]CC([*]){r}" for r in _SIDE_GROUPS]
    geminal = [f"[*]CC([*])({g}){r}" for g, r in itertools.product(_GEMINAL, _SIDE_GROUPS[:18])]
    esters = [f"[*]O{d}OC(=O){a}C(=O)[*]" for d, a in itertools.product(_DIOLS, _DIACIDS)]
    amides = [f"[*]N{d}NC(=O){a}C(=O)[*]" for d, a in itertools.product(_DIOLS, _DIACIDS)]
    carbonates = [f"[*]O{d}OC(=O)[*]" for d in _DIOLS]
    return vinyl + geminal + esters + amides + carbonates


def rdkit_features(molecules: list[Molecule]) -> pd.DataFrame:
    """smiles, the demo descriptors and the 0/1 categories, one row per molecule."""
    rows = []
    for molecule in molecules:
        mol = molecule.mol
        rows.append({
            "molar_refractivity": Crippen.MolMR(mol),
            "molecular_weight_g_mol": Descriptors.MolWt(mol),
            "polar_surface_area": rdMolDescriptors.CalcTPSA(mol),
            "crippen_logp": Crippen.MolLogP(mol),
        })
    table = pd.concat([pd.DataFrame(rows), category_frame(molecules)], axis=1)
    table.insert(0, "smiles", [m.smiles for m in molecules])
    return table


def build_demo_data(fast: bool = True, n_proposals: int = 8, seed: int = 0) -> ReportData:
    """A round-3 report of the demo campaign from two real fits (rounds 0-1 for last round's
    predictions, everything for this round). `fast`: small sampler settings and no calibration
    rehearsal, for tests; otherwise the production-like settings."""
    sampler = FAST_SAMPLER if fast else FULL_SAMPLER
    calibration = {"method": "none"} if fast else {"method": "tail_refit"}
    measured, X = _measured_campaign(seed)
    y = measured["value"].to_numpy(float)
    previous_rows = (measured["round"] < 2).to_numpy()

    previous = _fit(X[previous_rows], y[previous_rows], sampler, calibration, seed)
    later = previous.predict(X[~previous_rows])
    lower, upper = later.interval(0.9)
    last_round = pd.DataFrame({
        "smiles": measured.loc[~previous_rows, "smiles"].to_numpy(), "mean": later.mean,
        "lower_90": lower, "upper_90": upper, "measured": y[~previous_rows],
    })

    model = _fit(X, y, sampler, calibration, seed)
    pool, pool_X, pool_summary = _pool(set(measured["smiles"]))
    prediction = model.predict(pool_X)
    pool["mean"], (pool["lower_90"], pool["upper_90"]) = prediction.mean, prediction.interval(0.9)
    proposals = _propose(pool, prediction, measured, n_proposals)
    return ReportData(
        campaign="polymer_dielectric (demo)", round=3, target="dielectric_constant", direction="max",
        measured=measured, proposals=proposals, pool=pool, coefficients=model.coefficients(),
        diagnostics=model.diagnostics_, cv=loo_summary(model, X, y), last_round=last_round,
        warnings=["Demo data: RDKit descriptors stand in for the xTB ones, and the seed polymers' "
                  "round labels (1, 2) are simulated."],
        pool_summary=pool_summary, unit="", model_scale="ln dielectric constant",
    )


def _measured_campaign(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    data = pd.read_csv(resolve_input_file(SEED_DATA, "demo seed data"))
    molecules = [parse_molecule(s) for s in data["psmiles"]]
    rng = np.random.default_rng(seed)
    # rounds 1 and 2 "measured" six polymers each, drawn from the upper half like a campaign would
    upper = np.flatnonzero(data["dielectric_constant"].rank(pct=True) > 0.5)
    picked = rng.choice(upper, 12, replace=False)
    rounds = np.zeros(len(data), dtype=int)
    rounds[picked[:6]], rounds[picked[6:]] = 1, 2
    measured = pd.DataFrame({
        "smiles": [m.smiles for m in molecules], "value": data["dielectric_constant"].to_numpy(float),
        "round": rounds, "candidate_id": [f"seed-{i:02d}" if r == 0 else f"r{r}-{i:02d}" for i, r in enumerate(rounds)],
        "name": data["polymer"],
    })
    return measured, rdkit_features(molecules)


def _fit(X: pd.DataFrame, y: np.ndarray, sampler: dict[str, Any], calibration: dict[str, Any], seed: int) -> BayesianILR:
    model = BayesianILR(descriptors=list(DESCRIPTORS), target_transform="log", sampler=sampler,
                        calibration=calibration, seed=seed)
    with warnings.catch_warnings():  # sampler problems are reported in diagnostics_, and so in the report
        warnings.simplefilter("ignore")
        return model.fit(X, y)


def _pool(measured_smiles: set[str]) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    written = candidate_smiles()
    molecules, seen, rejected = [], set(), {"unparsable": 0, "duplicate": 0, "already measured": 0}
    for text in written:
        try:
            molecule = parse_molecule(text)
        except MoleculeError:
            rejected["unparsable"] += 1
            continue
        if molecule.smiles in measured_smiles:
            rejected["already measured"] += 1
        elif molecule.smiles in seen:
            rejected["duplicate"] += 1
        else:
            seen.add(molecule.smiles)
            molecules.append(molecule)
    pool = pd.DataFrame({"candidate_id": [f"c{i:04d}" for i in range(len(molecules))], "smiles": [m.smiles for m in molecules]})
    summary = {"generated": len(written), "accepted": len(molecules), "rejected": rejected}
    return pool, rdkit_features(molecules), summary


def _propose(pool: pd.DataFrame, prediction: Any, measured: pd.DataFrame, k: int) -> pd.DataFrame:
    """Greedy top-k by expected improvement, skipping near-duplicates of earlier picks."""
    best = float(measured["value"].max())
    draws = prediction.latent_draws
    improvement = np.maximum(draws - best, 0.0).mean(axis=0)
    pool_fp = morgan_fingerprints(pool["smiles"].tolist())
    picked: list[int] = []
    for i in np.argsort(-improvement):
        if len(picked) == k:
            break
        if not picked or tanimoto_similarity(pool_fp[[i]], pool_fp[picked]).max() < 0.7:
            picked.append(int(i))
    nearest = tanimoto_similarity(pool_fp[picked], morgan_fingerprints(measured["smiles"].tolist()))
    lower, upper = np.quantile(draws[:, picked], [0.05, 0.95], axis=0)
    similarity = nearest.max(axis=1)
    return pd.DataFrame({
        "rank": np.arange(1, len(picked) + 1),
        "candidate_id": pool["candidate_id"].to_numpy()[picked],
        "smiles": pool["smiles"].to_numpy()[picked],
        "mean": prediction.mean[picked], "lower_90": lower, "upper_90": upper,
        "prob_beat_best": (draws[:, picked] > best).mean(axis=0),
        "prob_feasible": np.nan,
        "acquisition_value": improvement[picked],
        "nearest_measured_id": measured["candidate_id"].to_numpy()[nearest.argmax(axis=1)],
        "nearest_measured_smiles": measured["smiles"].to_numpy()[nearest.argmax(axis=1)],
        "nearest_similarity": similarity,
        "outside_domain": similarity < DOMAIN_SIMILARITY,
    })
