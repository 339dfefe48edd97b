"""One campaign round, resumable: ingest -> featurise -> fit -> pool -> acquire -> propose -> report.

Each step ends with a committed write to the campaign's `CampaignStore`; a run that was killed
finds the last committed step and continues from there (steps are deterministic for the seed and
round, so redoing an interrupted one gives the same result). Proposal files and the report are
derived from the database and rewritten at the end of every run.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from discovery.acquisition import proposal_table, select_batch
from discovery.campaign.backtest import backtest_metrics, initial_set, read_lookup, write_metrics
from discovery.campaign.labio import format_limits, read_results, within, write_proposals
from discovery.campaign.settings import RunSettings
from discovery.campaign.store import CampaignStore
from discovery.chem.molecule import MoleculeError, parse_molecule
from discovery.features import featurize
from discovery.features.fingerprints import morgan_fingerprints
from discovery.model import Prediction, PropertyModel, make_model
from discovery.pool import generate_pool

log = logging.getLogger("discovery.campaign")


@dataclass(frozen=True)
class RoundSummary:
    """What a run did, for the closing message."""

    round: int
    n_measured: int
    best_value: float
    best_smiles: str
    n_proposed: int
    proposals_path: Path | None
    report_path: Path | None
    waiting: bool

    def message(self, target: str) -> str:
        state = "waiting for lab results" if self.waiting else f"{self.n_proposed} proposals written"
        lines = [
            f"round {self.round}: {self.n_measured} molecules measured, best {target} = {self.best_value:.4g} "
            f"({self.best_smiles}); {state}",
        ]
        if self.proposals_path is not None:
            lines.append(f"  proposals: {self.proposals_path}")
        if self.report_path is not None:
            lines.append(f"  report:    {self.report_path}")
        return "\n".join(lines)


@dataclass(frozen=True)
class FittedRound:
    """What a round computed that its report shows: the model, its training data (X, y) and the
    featurised pool with the model's prediction for it."""

    model: PropertyModel
    X: pd.DataFrame
    y: np.ndarray
    pool: pd.DataFrame
    pool_prediction: Prediction


class Campaign:
    """A campaign's state folder and the steps of a round (see module docstring)."""

    def __init__(self, settings: RunSettings) -> None:
        self.settings = settings
        self.folder = settings.campaign_dir
        self.folder.mkdir(parents=True, exist_ok=True)
        self.store = CampaignStore(self.folder / "state.sqlite")

    def close(self) -> None:
        self.store.close()

    # -- measurements in ----------------------------------------------------------------------
    def import_seed_data(self) -> int:
        """Store the campaign's seed measurements once (round 0). Returns rows stored now."""
        if (self.store.measurements()["round"] == 0).any():
            return 0
        c = self.settings.campaign
        if c.seed_data is None:
            initial = initial_set(self.lookup(), c.initial.n, c.initial.max_quantile, c.direction, self.settings.seed)
            return self.import_measurements(initial["smiles"], initial["value"], source=f"{c.lookup.path} (initial set)")
        table = pd.read_csv(c.seed_data)
        for column in (c.smiles_column, c.target_column):
            if column not in table.columns:
                raise ValueError(f"{c.seed_data} has no column {column!r} (columns: {list(table.columns)})")
        return self.import_measurements(table[c.smiles_column], table[c.target_column], source=str(c.seed_data))

    def import_measurements(self, smiles: pd.Series, values: pd.Series, source: str) -> int:
        """Round-0 measurements from a table; bad rows are recorded as failures, not fatal."""
        molecules, rows, failures = [], [], []
        numeric = pd.to_numeric(values, errors="coerce")
        for text, value in zip(smiles, numeric):
            try:
                molecule = parse_molecule(str(text))
            except MoleculeError as exc:
                failures.append((f"input:{text}", str(text), "seed data", exc.reason))
                continue
            if not np.isfinite(value):
                failures.append((molecule.identity, molecule.smiles, "seed data", "no numeric value"))
                continue
            if not within(float(value), self.settings.campaign.limits):
                failures.append((molecule.identity, molecule.smiles, "seed data",
                                 f"value {value:g} outside the physical limits {format_limits(self.settings.campaign.limits)}"))
                continue
            molecules.append((molecule.identity, molecule.smiles, "seed", ""))
            rows.append((molecule.identity, float(value)))
        with self.store.transaction() as db:
            ids = self.store.register_molecules(molecules, 0, db)
            self.store.add_measurements(
                [{"candidate_id": ids[i], "value": v, "source": source, "round": 0} for i, v in rows], db,
            )
        self.store.record_failures(failures, 0)
        for _, text, _, reason in failures:
            log.warning("seed data: %s skipped: %s", text, reason)
        return len(rows)

    def ingest(self, path: Path) -> int:
        """Validate a lab results file and store its new rows (all or nothing). Returns rows stored."""
        latest = self.store.latest_round()
        rows, already = read_results(path, candidates=self.store.molecules(), measured=self.store.measurements(),
                                     limits=self.settings.campaign.limits)
        answering = 0 if latest is None else int(latest["round"])
        with self.store.transaction() as db:
            unknown = [(r.identity, r.smiles, "lab", "") for r in rows if r.candidate_id is None]
            ids = self.store.register_molecules(unknown, answering, db)
            self.store.add_measurements([
                {"candidate_id": r.candidate_id or ids[r.identity], "value": r.value, "uncertainty": r.uncertainty,
                 "date": r.date, "notes": r.notes, "source": str(path), "round": answering}
                for r in rows
            ], db)
        self.store.log_event("ingested", f"{len(rows)} new measurements from {path} ({already} already stored)",
                             answering, {"path": str(path), "stored": len(rows), "already_stored": already})
        return len(rows)

    def lookup(self) -> pd.DataFrame:
        """The campaign's lookup table, parsed: smiles, identity, value (replicates averaged)."""
        if not hasattr(self, "_lookup"):
            c = self.settings.campaign
            if c.lookup is None:
                raise ValueError("campaign.lookup is not set")
            self._lookup = read_lookup(c.lookup.path, c.lookup.smiles_column, c.lookup.target_column)
        return self._lookup

    def answer_from_lookup(self, round_number: int) -> int:
        """Play the lab: store the lookup values of the round's proposals (once). Returns rows stored;
        proposals the table cannot answer (generated candidates) are skipped and logged."""
        measured_rounds = self.store.measurements()["round"]
        if (measured_rounds == round_number).any():
            return 0
        values = self.lookup().set_index("identity")["value"]
        proposals = self.store.proposals(round_number)
        known = proposals[proposals["identity"].isin(values.index)]
        self.store.add_measurements([
            {"candidate_id": r.candidate_id, "value": float(values[r.identity]), "source": "lookup", "round": round_number}
            for r in known.itertuples()
        ])
        if len(known) < len(proposals):
            self.store.log_event("unanswered", f"{len(proposals) - len(known)} proposal(s) not in the lookup table",
                                 round_number)
        return len(known)

    def simulate(self) -> list[RoundSummary]:
        """Closed loop against the lookup table until `campaign.rounds` rounds are answered."""
        summaries = []
        while True:
            latest = self.store.latest_round()
            if latest is not None and latest["status"] == "proposed":
                self.answer_from_lookup(int(latest["round"]))
                if int(latest["round"]) >= self.settings.campaign.rounds:
                    break
            summaries.append(self.propose(wait_for_results=False))
        return summaries

    def latest_summary(self) -> RoundSummary:
        """The summary of the latest round, without running anything."""
        latest = self.store.latest_round()
        if latest is None or latest["status"] != "proposed":
            raise ValueError("no finished round yet")
        return self._finish(int(latest["round"]), waiting=True)

    def write_backtest_metrics(self) -> Path:
        """`backtest_metrics.json` of a simulation against the lookup table (see `backtest`)."""
        metrics = backtest_metrics(self.lookup(), self.store.measurements(), self.store.proposals(),
                                   self.settings.campaign.direction)
        return write_metrics(self.folder / "backtest_metrics.json", metrics)

    # -- the round ----------------------------------------------------------------------------
    def training_table(self) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
        """Measured molecules (replicates averaged) featurised: (X of ok rows, y, the molecules)."""
        per_molecule = self.store.measured_molecules()
        features = self._featurize(per_molecule["smiles"], round_number=None)
        ok = (features["status"] == "ok").to_numpy()
        return features[ok].reset_index(drop=True), per_molecule["value"].to_numpy()[ok], per_molecule[ok].reset_index(drop=True)

    def propose(self, wait_for_results: bool = True) -> RoundSummary:
        """Run (or resume) one round and write its proposals; waits if the lab has not answered
        (unless `wait_for_results` is False: a simulation moves on even if nothing was answered)."""
        s = self.settings
        latest = self.store.latest_round()
        n_measured = len(self.store.measurements())
        if (wait_for_results and latest is not None and latest["status"] == "proposed"
                and n_measured == latest["n_measured"]):
            return self._finish(int(latest["round"]), waiting=True)
        X, y, measured = self.training_table()
        if len(y) < 5:
            raise ValueError(f"only {len(y)} measured molecules could be featurised; at least 5 are needed")
        best_index = int(np.argmax(y) if s.campaign.direction == "max" else np.argmin(y))
        if latest is None or latest["status"] == "proposed":
            round_number = 1 if latest is None else int(latest["round"]) + 1
            self.store.start_round(round_number, s.config_hash, n_measured, float(y[best_index]))
        else:
            round_number = int(latest["round"])
            log.info("resuming round %d from step '%s'", round_number, latest["status"])
        seed = s.seed * 1000 + round_number

        model = self._fit(round_number, X, y, seed)
        pool = self._pool(round_number, measured, seed)
        log.info("round %d: featurising %d pool candidates", round_number, len(pool))
        pool_features = self._featurize(pool["smiles"], round_number)
        ok = (pool_features["status"] == "ok").to_numpy()
        log.info("round %d: predicting %d candidates and choosing a batch of %d", round_number, int(ok.sum()),
                 s.acquisition.batch_size)
        pool, pool_X = pool[ok].reset_index(drop=True), pool_features[ok].reset_index(drop=True)
        if len(pool) == 0:
            raise ValueError("no pool candidate could be featurised; see the failures table")
        n_draws = s.acquisition.n_draws or 512
        # what the proposals and report show, within the property's physical limits
        pool_prediction = model.predict(pool_X, n_draws=n_draws, seed=seed, draws_dtype=np.float32).clipped(*s.campaign.limits)
        pool_draws = model.predict(pool_X, n_draws=n_draws, seed=seed, for_acquisition=True, draws_dtype=np.float32)
        finite = pool_prediction.finite() & pool_draws.finite()
        if not finite.all():  # one wild extrapolation must not stop the round
            self.store.record_failures(
                [(str(r.identity), str(r.smiles), "predict", "the model's prediction is not finite (far outside the data)")
                 for r in pool[~finite].itertuples()],
                round_number,
            )
            log.warning("%d pool candidates have non-finite predictions and were left out (failures table)",
                        int((~finite).sum()))
            pool, pool_X = pool[finite].reset_index(drop=True), pool_X[finite].reset_index(drop=True)
            pool_prediction, pool_draws = pool_prediction.take(finite), pool_draws.take(finite)
        measured_draws = model.predict(X, n_draws=n_draws, seed=seed + 1, for_acquisition=True, draws_dtype=np.float32)

        proposed = set(self.store.proposals()["identity"])
        available = ~pool["identity"].isin(proposed | set(measured["identity"])).to_numpy()
        pool_fps = morgan_fingerprints(list(pool["smiles"]))
        measured_fps = morgan_fingerprints(list(measured["smiles"]))
        selection = select_batch(
            pool_draws.latent_draws, measured_draws.latent_draws, y, s.campaign.direction, s.acquisition,
            available=available, fingerprints=pool_fps, seed=seed,
        )
        table = proposal_table(
            selection, pool_prediction.take(selection.indices), list(pool["candidate_id"]), list(pool["smiles"]),
            pool_fps, list(measured["candidate_id"]), list(measured["smiles"]), measured_fps,
            best_value=float(y[best_index]), direction=s.campaign.direction,
        )
        self.store.record_proposals(round_number, table)
        return self._finish(round_number, waiting=False, fitted=FittedRound(model, X, y, pool, pool_prediction))

    # -- steps --------------------------------------------------------------------------------
    def _featurize(self, smiles: pd.Series, round_number: int | None) -> pd.DataFrame:
        s = self.settings
        features = featurize(
            list(smiles), s.qm, cache=s.cache_path, n_workers=s.n_workers, dask_client=s.dask_address,
            progress=s.progress,
        )
        bad = features[features["status"] != "ok"]
        if len(bad):
            self.store.record_failures(
                [(str(r["identity"] or f"input:{r['input']}"), str(r["input"]), "featurise", str(r["error"]))
                 for _, r in bad.iterrows()],
                -1 if round_number is None else round_number,
            )
            log.warning("%d of %d molecules could not be featurised (recorded in the failures table)", len(bad), len(features))
        return features

    def _fit(self, round_number: int, X: pd.DataFrame, y: np.ndarray, seed: int) -> PropertyModel:
        s = self.settings
        data_hash = hashlib.sha256(
            (",".join(X["identity"].astype(str)) + np.asarray(y, float).tobytes().hex()).encode()
        ).hexdigest()[:16]
        fit_dir = self.folder / "fits" / f"round_{round_number:03d}"
        record = self.store.fit(round_number)
        model = make_model(s.model_name, **{"seed": seed, **s.model_params})
        if record is not None and record["data_hash"] == data_hash and model.capabilities.persistence:
            try:
                saved = type(model).load(record["path"])
            except (OSError, ValueError) as exc:  # missing, or saved by an older version: fit again
                log.warning("round %d: the saved posterior cannot be used (%s); fitting again", round_number, exc)
            else:
                log.info("round %d: loaded the saved posterior from %s", round_number, record["path"])
                return saved
        log.info("round %d: fitting %s on %d molecules", round_number, s.model_name, len(y))
        start = time.perf_counter()
        model.fit(X, y)
        diagnostics = model.diagnostics_
        health = "; ".join(diagnostics.warnings) if diagnostics is not None else ""
        log.info("round %d: fitted in %.0f s (%s)", round_number, time.perf_counter() - start,
                 health or "sampler diagnostics fine")
        if model.capabilities.persistence:
            model.save(fit_dir)
        self.store.record_fit(round_number, s.config_hash, data_hash, str(fit_dir), model.fit_seconds_,
                              None if diagnostics is None else diagnostics.to_dict())
        return model

    def _pool(self, round_number: int, measured: pd.DataFrame, seed: int) -> pd.DataFrame:
        latest = self.store.latest_round()
        if latest is not None and latest["round"] == round_number and latest["status"] in ("pooled", "proposed"):
            return self.store.pool(round_number)
        s = self.settings
        rows: list[tuple[str, str, str, str]] = []
        summary: dict = {}
        if s.campaign.generate_pool:
            exclude = set(measured["identity"]) | set(self.store.proposals()["identity"])
            generated = generate_pool(list(measured["smiles"]) + list(s.campaign.extra_seeds), s.pool,
                                      exclude=exclude, seed=seed)
            summary = generated.summary.to_dict()
            rows += [(r.identity, r.smiles, r.origin, r.parent) for r in generated.candidates.itertuples()]
        if s.campaign.lookup is not None:
            exclude = set(measured["identity"])
            rows += [(r.identity, r.smiles, "lookup", "") for r in self.lookup().itertuples() if r.identity not in exclude]
        self.store.record_pool(round_number, rows, summary)
        return self.store.pool(round_number)

    def _finish(self, round_number: int, waiting: bool, fitted: FittedRound | None = None) -> RoundSummary:
        """Write the round's proposal files (from the database) and, after a fit, its report."""
        s = self.settings
        proposals = self.store.proposals(round_number)
        out = write_proposals(
            proposals[["rank", "candidate_id", "smiles", "mean", "lower_90", "upper_90", "prob_beat_best",
                       "acquisition_value", "nearest_measured_id", "nearest_measured_smiles", "nearest_similarity",
                       "outside_domain"]],
            self.folder / "proposals", round_number, target=s.campaign.target,
        )
        per = self.store.measured_molecules()
        best = per["value"].idxmax() if s.campaign.direction == "max" else per["value"].idxmin()
        report = None
        if s.report.enabled and fitted is not None:
            from discovery.campaign.reporting import write_report

            report = write_report(self, round_number, fitted)
        elif (self.folder / "report.html").exists():
            report = self.folder / "report.html"
        return RoundSummary(
            round=round_number, n_measured=len(per), best_value=float(per.loc[best, "value"]),
            best_smiles=str(per.loc[best, "smiles"]), n_proposed=len(proposals), proposals_path=out[0],
            report_path=report, waiting=waiting,
        )
