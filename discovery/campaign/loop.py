"""One campaign round, resumable: ingest -> featurise -> fit -> pool -> predict -> choose -> report.

`Campaign` holds the round's logic; what it works with is injected (`Collaborators`: the store,
the featuriser, a model factory, the pool generator and the reporter), so tests run it with a fast
featuriser and a small model, and `Campaign.open(settings)` builds the real ones. Each step is a
method with a typed result and ends with a committed write to the `CampaignStore`; a run that was
killed finds the last committed step (`RoundStatus`) and continues from there (steps are
deterministic for the seed and round, so redoing an interrupted one gives the same result).
Proposal files and the report are derived from the database and rewritten at the end of every run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from discovery.acquisition import FEASIBILITY_WEIGHTED, FurtherOutcomes, proposal_table, select_batch
from discovery.acquisition.screening import screen
from discovery.campaign.backtest import backtest_metrics, initial_set, pareto_metrics, read_lookup, write_metrics
from discovery.campaign.labio import format_limits, read_results, within, write_proposals, write_table
from discovery.campaign.ledger import Action, IngestRules, Outcome
from discovery.campaign.reporting import RoundReport, write_report
from discovery.campaign.settings import PropertySettings, PropertySource, RunSettings
from discovery.campaign.store import CampaignStore, RoundStatus
from discovery.chem.molecule import MoleculeError, parse_molecule
from discovery.features import featurize
from discovery.features.fingerprints import morgan_fingerprints
from discovery.model import Prediction, PropertyModel
from discovery.model.feasibility import FeasibilityModel
from discovery.pool import Pool, ScreeningMethod, generate_pool
from discovery.report import FurtherProperty, loo_summary
from discovery.tables import PARETO_PROPOSALS, PROPOSALS, further_columns

log = logging.getLogger("discovery.campaign")


class Featurizer(Protocol):
    """SMILES -> a `discovery.features.featurize` table (one row per input, `status` "ok" or why not)."""

    def __call__(self, smiles: Sequence[str]) -> pd.DataFrame: ...


class PoolGenerator(Protocol):
    """(seed molecules, identities to leave out, seed) -> generated candidates."""

    def __call__(self, seeds: Sequence[str], exclude: set[str], seed: int) -> Pool: ...


@dataclass(frozen=True)
class Collaborators:
    """What a campaign works with.

    Attributes:
        store: The campaign's state.
        featurizer: Descriptors of molecules.
        model_factory: A fresh, unfitted model for a seed.
        pool_generator: Candidates from the measured molecules.
        reporter: Writes the round's report (None: no report).
    """

    store: CampaignStore
    featurizer: Featurizer
    model_factory: Callable[[int], PropertyModel]
    pool_generator: PoolGenerator
    reporter: Callable[[RoundReport], Path] | None


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
class IngestSummary:
    """What an ingest stored (counts of rows)."""

    path: Path
    measured: int
    failed: int
    corrected: int
    retracted: int
    already_stored: int

    @property
    def stored(self) -> int:
        return self.measured + self.failed + self.corrected + self.retracted

    def message(self) -> str:
        return (f"ingested {self.path}: {self.measured} new measurement(s), {self.failed} failed experiment(s), "
                f"{self.corrected} correction(s), {self.retracted} retraction(s); "
                f"{self.already_stored} row(s) already stored")


@dataclass(frozen=True)
class TrainingData:
    """What the models learn from: the current measurements and the failed experiments.

    Attributes:
        X: The featurised row of the molecule of each measurement (status "ok" only): replicates
            are separate rows with the same `identity`.
        y: The measured values, property units, shape (n,).
        noise_sd: The lab's uncertainty (SD, property units) of each, NaN where not given, shape (n,).
        measured: One row per measured molecule (candidate_id, smiles, identity, value = the mean
            of its current measurements, round, n_measurements).
        X_measured: Their featurised rows, aligned with `measured`.
        failed: The molecules whose experiment failed and that have no value (candidate_id,
            smiles, identity, reason, round), featurised ones only.
        X_failed: Their featurised rows, aligned with `failed`.
    """

    X: pd.DataFrame
    y: np.ndarray
    noise_sd: np.ndarray
    measured: pd.DataFrame
    X_measured: pd.DataFrame
    failed: pd.DataFrame
    X_failed: pd.DataFrame

    @property
    def known_noise(self) -> np.ndarray | None:
        """`noise_sd` when the lab gave any uncertainty, else None."""
        return self.noise_sd if np.any(self.noise_sd > 0) else None


@dataclass(frozen=True)
class PoolData:
    """The round's candidates that could be featurised and predicted.

    Attributes:
        molecules: candidate_id, identity, smiles, origin, parent.
        X: Their featurised rows, aligned with `molecules`.
    """

    molecules: pd.DataFrame
    X: pd.DataFrame

    def take(self, mask: np.ndarray) -> PoolData:
        return PoolData(self.molecules[mask].reset_index(drop=True), self.X[mask].reset_index(drop=True))


@dataclass(frozen=True)
class PoolPredictions:
    """The model's word on the pool.

    Attributes:
        reported: What the proposals and report show (calibrated, within the physical limits).
        acquisition: The draws acquisition ranks the pool on (the model's own posterior).
        measured: The same kind of draws for the measured molecules (the noisy-EI baseline).
    """

    reported: Prediction
    acquisition: Prediction
    measured: Prediction


class Campaign:
    """A campaign's state folder and the steps of a round (see the module docstring)."""

    def __init__(self, settings: RunSettings, collaborators: Collaborators) -> None:
        self.settings = settings
        self.folder = settings.campaign_dir
        self.folder.mkdir(parents=True, exist_ok=True)
        self.store = collaborators.store
        self.parts = collaborators
        self._lookup: dict[str | None, pd.DataFrame] = {}  # parsed lookup tables, by property (None: target)
        # this run's further models (`campaign.properties`): sampler warnings and fits, for the report
        self._further_health: dict[str, str] = {}
        self._further_fits: dict[str, tuple[PropertyModel, TrainingData]] = {}

    @classmethod
    def open(cls, settings: RunSettings) -> Campaign:
        """The campaign with its real collaborators, built from the settings."""
        s = settings
        settings.campaign_dir.mkdir(parents=True, exist_ok=True)

        def featurizer(smiles: Sequence[str]) -> pd.DataFrame:
            return featurize(list(smiles), s.qm, cache=s.cache_path, n_workers=s.n_workers, dask_client=s.dask_address,
                             progress=s.progress)

        def pool_generator(seeds: Sequence[str], exclude: set[str], seed: int) -> Pool:
            return generate_pool(seeds, s.pool, exclude=exclude, seed=seed)

        def reporter(report: RoundReport) -> Path:
            return write_report(report, settings.campaign_dir / "report.html", s.report.options)

        return cls(settings, Collaborators(
            store=CampaignStore(settings.campaign_dir / "state.sqlite"),
            featurizer=featurizer,
            model_factory=lambda seed: s.model.build(seed=seed),
            pool_generator=pool_generator,
            reporter=reporter if s.report.enabled else None,
        ))

    def close(self) -> None:
        self.store.close()

    # -- measurements in ----------------------------------------------------------------------
    def import_seed_data(self) -> int:
        """Store the campaign's seed measurements once (round 0). Returns rows stored now."""
        if self.store.has_records(0):
            return 0
        c = self.settings.campaign
        measured = [p for p in c.properties if p.source is PropertySource.MEASURED]
        if c.seed_data is None:
            initial = initial_set(self.lookup(), c.initial.n, c.initial.max_quantile, c.direction, self.settings.seed)
            source = f"{c.lookup.path} (initial set)"
            stored = self.import_measurements(initial["smiles"], initial["value"], source=source)
            for prop in measured:  # what the lookup table knows of the initial molecules
                known = self.lookup(prop.name)
                known = known[known["identity"].isin(initial["identity"])]
                self.import_measurements(known["smiles"], known["value"], source=source, property_name=prop.name)
            return stored
        table = pd.read_csv(c.seed_data)
        for column in (c.smiles_column, c.target_column, *(p.column for p in measured)):
            if column not in table.columns:
                raise ValueError(f"{c.seed_data} has no column {column!r} (columns: {list(table.columns)})")
        stored = self.import_measurements(table[c.smiles_column], table[c.target_column], source=str(c.seed_data))
        for prop in measured:
            given = pd.to_numeric(table[prop.column], errors="coerce").notna()
            self.import_measurements(table.loc[given, c.smiles_column], table.loc[given, prop.column],
                                     source=str(c.seed_data), property_name=prop.name)
        return stored

    def import_measurements(self, smiles: pd.Series, values: pd.Series, source: str,
                            property_name: str | None = None) -> int:
        """Round-0 measurements of the target (or of a further measured property) from a table;
        bad rows are recorded as failures, not fatal."""
        c = self.settings.campaign
        limits = c.limits if property_name is None else next(p.limits for p in c.properties if p.name == property_name)
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
            if not within(float(value), limits):
                what = "value" if property_name is None else property_name
                failures.append((molecule.identity, molecule.smiles, "seed data",
                                 f"{what} {value:g} outside the physical limits {format_limits(limits)}"))
                continue
            molecules.append((molecule.identity, molecule.smiles, "seed", ""))
            rows.append((molecule.identity, float(value)))
        with self.store.transaction() as db:
            ids = self.store.register_molecules(molecules, 0, db)
            self.store.add_measurements(
                [{"candidate_id": ids[i], "value": v, "source": source, "round": 0, "property": property_name}
                 for i, v in rows], db,
            )
        self.store.record_failures(failures, 0)
        for _, text, _, reason in failures:
            log.warning("seed data: %s skipped: %s", text, reason)
        return len(rows)

    def ingest(self, path: Path, confirm: bool = False) -> IngestSummary:
        """Validate a lab results file and store its new rows, corrections and retractions (all or
        nothing). The file is checked against the stored records inside the write transaction, so
        two ingests at once cannot both store one row. `confirm`: the lab vouches for every value
        the plausibility check would refuse."""
        c = self.settings.campaign
        rules = IngestRules(limits=c.limits, property_limits={p.name: p.limits for p in c.properties},
                            plausible_ranges=c.plausible_ranges, confirm=confirm)
        with self.store.transaction() as db:
            latest = self.store.latest_round()
            answering = 0 if latest is None else latest.round
            rows, already = read_results(path, candidates=self.store.molecules(), measured=self.store.history(),
                                         rules=rules, properties=self._measured_properties())
            unknown = [(r.identity, r.smiles, "lab", "") for r in rows if r.candidate_id is None]
            ids = self.store.register_molecules(unknown, answering, db)
            self.store.add_measurements([
                {"candidate_id": r.candidate_id or ids[r.identity], "value": r.value, "uncertainty": r.uncertainty,
                 "date": r.date, "notes": r.notes, "source": str(path), "round": answering, "outcome": r.outcome.value,
                 "reason": r.reason, "source_row": r.row, "property": r.property_name,
                 "replaces": r.measurement_id if r.action is not Action.MEASURE else None}
                for r in rows
            ], db)
            new = [r for r in rows if r.action is Action.MEASURE]
            summary = IngestSummary(
                path=Path(path), measured=sum(r.outcome is Outcome.MEASURED for r in new),
                failed=sum(r.outcome is Outcome.FAILED for r in new),
                corrected=sum(r.action is Action.CORRECT for r in rows),
                retracted=sum(r.action is Action.RETRACT for r in rows), already_stored=already,
            )
            self.store.log_event("ingested", summary.message(), answering, dataclasses.asdict(summary), db)
        return summary

    def write_audit(self, path: Path) -> Path:
        """Every record of the campaign, oldest first, with its fate (current, or replaced by which
        record), who stored it, when, from which file and row, and why: a spreadsheet-safe CSV."""
        history = self.store.history()
        history["value"] = history["value"].astype(float)
        return write_table(history, Path(path))[0]

    # -- backtests: a lookup table plays the lab ----------------------------------------------
    def lookup(self, property_name: str | None = None) -> pd.DataFrame:
        """The campaign's lookup table, parsed: smiles, identity, value (replicates averaged) of the
        target, or of a further measured property (its `column`; rows without it dropped)."""
        if property_name not in self._lookup:
            c = self.settings.campaign
            if c.lookup is None:
                raise ValueError("campaign.lookup is not set")
            column = c.lookup.target_column if property_name is None else next(
                p.column for p in c.properties if p.name == property_name)
            self._lookup[property_name] = read_lookup(c.lookup.path, c.lookup.smiles_column, column)
        return self._lookup[property_name]

    def answer_from_lookup(self, round_number: int) -> int:
        """Play the lab: store the lookup values of the round's proposals (once). Returns rows stored;
        proposals the table cannot answer (generated candidates) are skipped and logged."""
        values = self.lookup().set_index("identity")["value"]
        proposals = self.store.proposals(round_number)
        if self.store.has_records(round_number):
            return 0
        known = proposals[proposals["identity"].isin(values.index)]
        records = [{"candidate_id": r.candidate_id, "value": float(values[r.identity]), "source": "lookup",
                    "round": round_number} for r in known.itertuples()]
        for prop in self.settings.campaign.properties:
            if prop.source is PropertySource.MEASURED:  # the lab measures every property of a proposal
                other = self.lookup(prop.name).set_index("identity")["value"]
                records += [{"candidate_id": r.candidate_id, "value": float(other[r.identity]), "source": "lookup",
                             "round": round_number, "property": prop.name}
                            for r in proposals.itertuples() if r.identity in other.index]
        self.store.add_measurements(records)
        if len(known) < len(proposals):
            self.store.log_event("unanswered", f"{len(proposals) - len(known)} proposal(s) not in the lookup table",
                                 round_number)
        return len(known)

    def simulate(self) -> list[RoundSummary]:
        """Closed loop against the lookup table until `campaign.rounds` rounds are answered."""
        summaries = []
        while True:
            latest = self.store.latest_round()
            if latest is not None and latest.status is RoundStatus.PROPOSED:
                self.answer_from_lookup(latest.round)
                if latest.round >= self.settings.campaign.rounds:
                    break
            summaries.append(self.propose(wait_for_results=False))
        return summaries

    def latest_summary(self) -> RoundSummary:
        """The summary of the latest round, without running anything."""
        latest = self.store.latest_round()
        if latest is None or latest.status is not RoundStatus.PROPOSED:
            raise ValueError("no finished round yet")
        return self._finish(latest.round, waiting=True)

    def write_backtest_metrics(self) -> Path:
        """`backtest_metrics.json` of a simulation against the lookup table (see `backtest`); with
        further measured properties also the Pareto metrics (`pareto`)."""
        c = self.settings.campaign
        proposals = self.store.proposals()
        metrics = backtest_metrics(self.lookup(), self.store.measurements(), proposals, c.direction)
        if c.properties and all(p.source is PropertySource.MEASURED for p in c.properties):
            truth = self.lookup().rename(columns={"value": c.target})[["identity", c.target]]
            for prop in c.properties:
                truth = truth.merge(self.lookup(prop.name).rename(columns={"value": prop.name})[["identity", prop.name]],
                                    on="identity")
            measured = self.store.measurements().groupby("identity", as_index=False)["round"].min()
            metrics["pareto"] = pareto_metrics(truth, measured, proposals, list(c.objectives), list(c.constraints))
        return write_metrics(self.folder / "backtest_metrics.json", metrics)

    # -- the round ----------------------------------------------------------------------------
    def propose(self, wait_for_results: bool = True) -> RoundSummary:
        """Run (or resume) one round and write its proposals; waits if the lab has not answered
        (unless `wait_for_results` is False: a simulation moves on even if nothing was answered)."""
        latest = self.store.latest_round()
        n_measured = self.store.n_records()  # any new result, correction or retraction is news
        if (wait_for_results and latest is not None and latest.status is RoundStatus.PROPOSED
                and n_measured == latest.n_measured):
            return self._finish(latest.round, waiting=True)
        training = self.training_data()
        round_number = self.open_round(latest, n_measured, training)
        seed = self.settings.seed * 1000 + round_number
        model = self.fit_model(round_number, training, seed)
        pool = self.pool_data(round_number, training, seed)
        pool, predictions = self.predict(round_number, model, training, pool, seed)
        feasibility = self.feasibility(round_number, training, pool, seed)
        proposals = self.choose(round_number, training, pool, predictions, seed, feasibility)
        return self._finish(round_number, waiting=False,
                            fitted=(model, training, pool, predictions.reported, proposals))

    def training_data(self, property_name: str | None = None) -> TrainingData:
        """Current measurements of the target (or of a further measured property; then without
        failed experiments) and failed experiments, one row each (replicates included), their
        molecules featurised; at least 5 measured molecules are needed."""
        rows = self.store.measurements(property_name)
        per_molecule = self.store.measured_molecules(property_name)
        failed = self.store.failed_experiments()
        if property_name is not None:
            failed = failed.iloc[:0]
        features = self._featurize(pd.concat([per_molecule["smiles"], failed["smiles"]], ignore_index=True),
                                   round_number=None)
        ok = (features["status"] == "ok").to_numpy()
        n = len(per_molecule)
        if ok[:n].sum() < 5:
            what = "molecules measured" if property_name is None else f"molecules with {property_name} measured"
            raise ValueError(f"only {int(ok[:n].sum())} {what} could be featurised; at least 5 are needed")
        X_measured = features[:n][ok[:n]].reset_index(drop=True)
        measured = per_molecule[ok[:n]].reset_index(drop=True)
        rows = rows[rows["candidate_id"].isin(measured["candidate_id"])].reset_index(drop=True)
        position = pd.Series(range(len(measured)), index=measured["candidate_id"])[rows["candidate_id"]].to_numpy()
        return TrainingData(
            X=X_measured.iloc[position].reset_index(drop=True), y=rows["value"].to_numpy(float),
            noise_sd=rows["uncertainty"].to_numpy(float), measured=measured, X_measured=X_measured,
            failed=failed[ok[n:]].reset_index(drop=True), X_failed=features[n:][ok[n:]].reset_index(drop=True),
        )

    def open_round(self, latest, n_measured: int, training: TrainingData) -> int:
        """The round to work on: a new one after a proposed round (or none), else the unfinished one."""
        if latest is None or latest.status is RoundStatus.PROPOSED:
            round_number = 1 if latest is None else latest.round + 1
            self.store.start_round(round_number, self.settings.config_hash, n_measured, self._best(training)[0])
            return round_number
        log.info("resuming round %d from step '%s'", latest.round, latest.status.value)
        return latest.round

    def fit_model(self, round_number: int, training: TrainingData, seed: int) -> PropertyModel:
        """The round's fitted model: the saved one when it was fitted on the same data, else a new fit
        (saved when the model can be)."""
        X, y = training.X, training.y
        model = self.parts.model_factory(seed)
        noise = training.known_noise if model.capabilities.known_noise else None
        data_hash = hashlib.sha256(
            (",".join(X["identity"].astype(str)) + np.asarray(y, float).tobytes().hex()
             + ("" if noise is None else noise.tobytes().hex())).encode()
        ).hexdigest()[:16]
        fit_dir = self.folder / "fits" / f"round_{round_number:03d}"
        record = self.store.fit(round_number)
        if record is not None and record["data_hash"] == data_hash and model.capabilities.persistence:
            try:
                saved = type(model).load(record["path"])
            except (OSError, ValueError) as exc:  # missing, or saved by an older version: fit again
                log.warning("round %d: the saved posterior cannot be used (%s); fitting again", round_number, exc)
            else:
                log.info("round %d: loaded the saved posterior from %s", round_number, record["path"])
                return saved
        if training.known_noise is not None and noise is None:
            log.warning("round %d: %s cannot use the lab's uncertainties; they are stored but not used in this fit "
                        "(the report says so too)", round_number, type(model).__name__)
        log.info("round %d: fitting %s on %d measurements of %d molecules", round_number, type(model).__name__, len(y),
                 len(training.measured))
        start = time.perf_counter()
        model.fit(X, y, noise_sd=noise)
        diagnostics = model.diagnostics_
        health = "; ".join(diagnostics.warnings) if diagnostics is not None else ""
        log.info("round %d: fitted in %.0f s (%s)", round_number, time.perf_counter() - start,
                 health or "sampler diagnostics fine")
        if model.capabilities.persistence:
            model.save(fit_dir)
        self.store.record_fit(round_number, self.settings.config_hash, data_hash, str(fit_dir), model.fit_seconds_,
                              None if diagnostics is None else diagnostics.to_dict())
        return model

    def pool_data(self, round_number: int, training: TrainingData, seed: int) -> PoolData:
        """The round's candidates (generated once and stored; a resumed round reads them back),
        featurised; those that could not be are recorded as failures and left out."""
        latest = self.store.latest_round()
        if not (latest is not None and latest.round == round_number and latest.status.reached(RoundStatus.POOLED)):
            self._generate_pool(round_number, training.measured, seed)
        pool = self.store.pool(round_number)
        log.info("round %d: featurising %d pool candidates", round_number, len(pool))
        features = self._featurize(pool["smiles"], round_number)
        ok = (features["status"] == "ok").to_numpy()
        if not ok.any():
            raise ValueError("no pool candidate could be featurised; see the failures table")
        return PoolData(pool[ok].reset_index(drop=True), features[ok].reset_index(drop=True))

    def predict(self, round_number: int, model: PropertyModel, training: TrainingData, pool: PoolData,
                seed: int) -> tuple[PoolData, PoolPredictions]:
        """The model's predictions for the pool and the measured molecules; candidates whose
        prediction is not finite (a wild extrapolation) are recorded as failures and left out."""
        s = self.settings
        n_draws = s.acquisition.n_draws or 512
        log.info("round %d: predicting %d candidates", round_number, len(pool.X))
        # what the proposals and report show, within the property's physical limits
        reported = model.predict(pool.X, n_draws=n_draws, seed=seed, draws_dtype=np.float32).clipped(*s.campaign.limits)
        acquisition = model.predict(pool.X, n_draws=n_draws, seed=seed, for_acquisition=True, draws_dtype=np.float32)
        finite = reported.finite() & acquisition.finite()
        if not finite.all():  # one wild extrapolation must not stop the round
            self.store.record_failures(
                [(str(r.identity), str(r.smiles), "predict", "the model's prediction is not finite (far outside the data)")
                 for r in pool.molecules[~finite].itertuples()],
                round_number,
            )
            log.warning("%d pool candidates have non-finite predictions and were left out (failures table)",
                        int((~finite).sum()))
            pool, reported, acquisition = pool.take(finite), reported.take(finite), acquisition.take(finite)
        measured = model.predict(training.X_measured, n_draws=n_draws, seed=seed + 1, for_acquisition=True,
                                 draws_dtype=np.float32)
        return pool, PoolPredictions(reported, acquisition, measured)

    def feasibility(self, round_number: int, training: TrainingData, pool: PoolData, seed: int) -> np.ndarray | None:
        """P(feasible) of each pool candidate from the failed experiments, or None until there are
        `campaign.feasibility.min_failures` of them (`discovery.model.feasibility`)."""
        f = self.settings.campaign.feasibility
        if not f.enabled or len(training.failed) < f.min_failures:
            return None
        X = pd.concat([training.X_measured, training.X_failed], ignore_index=True)
        feasible = np.r_[np.ones(len(training.X_measured), bool), np.zeros(len(training.X_failed), bool)]
        model = FeasibilityModel(f.prior_scale, f.n_draws, seed).fit(X, feasible)
        log.info("round %d: feasibility learned from %d failed and %d measured molecules", round_number,
                 len(training.X_failed), len(training.X_measured))
        return np.clip(model.predict_proba(pool.X), 1e-12, 1.0)

    def choose(self, round_number: int, training: TrainingData, pool: PoolData, predictions: PoolPredictions,
               seed: int, feasibility: np.ndarray | None = None) -> pd.DataFrame:
        """Choose the batch (never a molecule already measured, failed or proposed), each pick
        weighted by its probability of being feasible when there is one, and store it as the
        round's proposals (the `PROPOSALS` table)."""
        s = self.settings
        log.info("round %d: choosing a batch of %d", round_number, s.acquisition.batch_size)
        if feasibility is not None and s.acquisition.strategy not in FEASIBILITY_WEIGHTED:
            log.warning("acquisition %s ranks without the feasibility probability (shown in the proposals); "
                        "strategies that use it: %s", s.acquisition.strategy,
                        ", ".join(str(x) for x in FEASIBILITY_WEIGHTED))
        done = set(self.store.proposals()["identity"]) | set(training.measured["identity"]) | set(
            self.store.failed_experiments()["identity"])
        available = ~pool.molecules["identity"].isin(done).to_numpy()
        pool_fps = morgan_fingerprints(list(pool.molecules["smiles"]))
        measured_fps = morgan_fingerprints(list(training.measured["smiles"]))
        further, further_predictions = self._further(round_number, training, pool, seed)
        selection = select_batch(
            predictions.acquisition.latent_draws, predictions.measured.latent_draws, training.measured["value"],
            s.campaign.direction, s.acquisition, available=available, fingerprints=pool_fps, feasibility=feasibility,
            further=further, seed=seed,
        )
        table = proposal_table(
            selection, predictions.reported.take(selection.indices), list(pool.molecules["candidate_id"]),
            list(pool.molecules["smiles"]), pool_fps, list(training.measured["candidate_id"]),
            list(training.measured["smiles"]), measured_fps, best_value=self._best(training)[0],
            direction=s.campaign.direction, prob_feasible=feasibility,
        )
        if selection.pareto is not None:
            if s.campaign.constraints:
                table["prob_meets_constraints"] = selection.pareto.p_feasible
            table["prob_extends_front"] = selection.pareto.p_improve
        # each further property after the PROPOSALS columns: its value, or its prediction and interval
        for prop in s.campaign.properties:
            if prop.name in further_predictions:
                chosen = further_predictions[prop.name].take(selection.indices)
                for column, values in zip(further_columns(prop.name, modelled=True), (chosen.mean, *chosen.interval(0.9))):
                    table[column] = values
            else:
                table[prop.name] = further.pool[prop.name][selection.indices]
        self.store.record_proposals(round_number, table)
        return table

    def _further(self, round_number: int, training: TrainingData, pool: PoolData,
                 seed: int) -> tuple[FurtherOutcomes | None, dict[str, Prediction]]:
        """The further objectives and constraints (`campaign.properties`) for the pool and the
        measured molecules: a computed one's descriptor column, a measured one's posterior draws
        from a model of its own (the campaign's model, fitted on the molecules where that property
        was measured), with that model's reported predictions for the pool."""
        c = self.settings.campaign
        self._further_health, self._further_fits = {}, {}
        if not c.properties:
            return None, {}
        n_draws = self.settings.acquisition.n_draws or 512
        pool_values, measured_values, known, predictions = {}, {}, {}, {}
        for prop in c.properties:
            if prop.source is PropertySource.COMPUTED:
                pool_values[prop.name] = pool.X[prop.name].to_numpy(float)
                measured_values[prop.name] = known[prop.name] = training.X_measured[prop.name].to_numpy(float)
                continue
            data = self.training_data(prop.name)
            model = self.parts.model_factory(seed)
            log.info("round %d: fitting %s for %s on %d measurements", round_number, type(model).__name__, prop.name,
                     len(data.y))
            model.fit(data.X, data.y, noise_sd=data.known_noise if model.capabilities.known_noise else None)
            if model.diagnostics_ is not None and model.diagnostics_.warnings:
                self._further_health[prop.name] = "; ".join(model.diagnostics_.warnings)
            self._further_fits[prop.name] = (model, data)
            pool_values[prop.name] = model.predict(pool.X, n_draws=n_draws, seed=seed, for_acquisition=True).latent_draws
            measured_values[prop.name] = model.predict(training.X_measured, n_draws=n_draws, seed=seed,
                                                       for_acquisition=True).latent_draws
            predictions[prop.name] = model.predict(pool.X, n_draws=n_draws, seed=seed).clipped(*prop.limits)
            value = data.measured.set_index("identity")["value"]
            known[prop.name] = training.measured["identity"].map(value).to_numpy(float)
        further = FurtherOutcomes(
            objectives=c.objectives[1:], constraints=c.constraints, pool=pool_values, measured=measured_values,
            measured_values=known,
        )
        return further, predictions

    # -- helpers ------------------------------------------------------------------------------
    def _measured_properties(self) -> list[str]:
        """The further properties the lab measures (`campaign.properties`), by name."""
        return [p.name for p in self.settings.campaign.properties if p.source is PropertySource.MEASURED]

    def _best(self, training: TrainingData) -> tuple[float, int]:
        """The best measured value (a molecule's mean) and its row in `training.measured`."""
        values = training.measured["value"].to_numpy(float)
        index = self.settings.campaign.direction.best_index(values)
        return float(values[index]), index

    def _featurize(self, smiles: pd.Series, round_number: int | None) -> pd.DataFrame:
        features = self.parts.featurizer(list(smiles))
        bad = features[features["status"] != "ok"]
        if len(bad):
            self.store.record_failures(
                [(str(r["identity"] or f"input:{r['input']}"), str(r["input"]), "featurise", str(r["error"]))
                 for _, r in bad.iterrows()],
                -1 if round_number is None else round_number,
            )
            log.warning("%d of %d molecules could not be featurised (recorded in the failures table)", len(bad), len(features))
        return features

    def _generate_pool(self, round_number: int, measured: pd.DataFrame, seed: int) -> None:
        s = self.settings
        rows: list[tuple[str, str, str, str]] = []
        summary: dict = {}
        failed = set(self.store.failed_experiments()["identity"])
        if s.campaign.generate_pool:
            exclude = set(measured["identity"]) | failed | set(self.store.proposals()["identity"])
            generated = self.parts.pool_generator(list(measured["smiles"]) + list(s.campaign.extra_seeds), exclude, seed)
            summary = generated.summary.to_dict()
            rows += [(r.identity, r.smiles, r.origin, r.parent) for r in generated.candidates.itertuples()]
        if s.campaign.lookup is not None:
            exclude = set(measured["identity"]) | failed
            rows += [(r.identity, r.smiles, "lookup", "") for r in self.lookup().itertuples() if r.identity not in exclude]
        screening = screen([r[1] for r in rows], measured["smiles"], measured["value"].to_numpy(float),
                           s.campaign.direction, s.pool.screening, seed)
        if screening.method is not ScreeningMethod.NONE:
            summary["screening"] = screening.summary()
            rows = [r for r, keep in zip(rows, screening.kept) if keep]
            log.info("round %d: %s shortlisted %d of %d candidates for featurisation (%d by rank, %d at random)",
                     round_number, screening.method.value, len(rows), len(screening.kept), screening.n_top,
                     screening.n_explore)
        self.store.record_pool(round_number, rows, summary)

    def _finish(self, round_number: int, waiting: bool,
                fitted: tuple[PropertyModel, TrainingData, PoolData, Prediction, pd.DataFrame] | None = None) -> RoundSummary:
        """Write the round's proposal files (from the database) and, after a fit, its report."""
        s = self.settings
        proposals = self.store.proposals(round_number)
        further = [c for c in PARETO_PROPOSALS.names if c in proposals.columns] + [
            c for p in s.campaign.properties
            for c in further_columns(p.name, modelled=p.source is PropertySource.MEASURED) if c in proposals.columns]
        out = write_proposals(proposals[[*PROPOSALS.names, *further]], self.folder / "proposals", round_number,
                              target=s.campaign.target, measured_properties=self._measured_properties())
        per = self.store.measured_molecules()
        best = per.index[s.campaign.direction.best_index(per["value"].to_numpy())]
        report = None
        if self.parts.reporter is not None and fitted is not None:
            model, training, pool, prediction, _ = fitted
            report = self.parts.reporter(self._round_report(round_number, model, training, pool, prediction))
            self.store.log_event("report", f"report written to {report}", round_number)
        elif (self.folder / "report.html").exists():
            report = self.folder / "report.html"
        return RoundSummary(
            round=round_number, n_measured=len(per), best_value=float(per.loc[best, "value"]),
            best_smiles=str(per.loc[best, "smiles"]), n_proposed=len(proposals), proposals_path=out[0],
            report_path=report, waiting=waiting,
        )

    def _further_report(self, prop: PropertySettings, training: TrainingData) -> FurtherProperty:
        """A further property as the report shows it, with its values for the measured molecules."""
        modelled = prop.source is PropertySource.MEASURED
        if modelled:
            values = self.store.measured_molecules(prop.name).set_index("candidate_id")["value"]
        else:
            values = pd.Series(training.X_measured[prop.name].to_numpy(float), index=training.measured["candidate_id"])
        cv = None
        if prop.name in self._further_fits:
            model, data = self._further_fits[prop.name]
            noise = data.known_noise if model.capabilities.known_noise else None
            cv = loo_summary(model, data.X, data.y, prop.limits, noise)
        return FurtherProperty(name=prop.name, description=prop.describe(), unit=prop.unit, direction=prop.direction,
                               constraints=prop.constraints, measured=values, modelled=modelled,
                               health=self._further_health.get(prop.name, ""), cv=cv)

    def _round_report(self, round_number: int, model: PropertyModel, training: TrainingData, pool: PoolData,
                      prediction: Prediction) -> RoundReport:
        """Everything the report shows, read from the store and this run."""
        s = self.settings
        failures = self.store.failures()
        notes = []
        noise = training.known_noise
        if noise is not None and not model.capabilities.known_noise:
            notes.append(f"The lab's uncertainties were not used: the {s.model.name} model cannot take known "
                         "measurement noise (they are stored, and a model that can would use them).")
        notes += [f"The model of {name} (a further property, fitted on its own): {health}."
                  for name, health in self._further_health.items()]
        f = s.campaign.feasibility
        n_failed = len(training.failed)
        if not f.enabled:
            feasibility = "Learning from failures is switched off (campaign.feasibility.enabled)."
        elif n_failed < f.min_failures:
            feasibility = (f"From {f.min_failures} failed molecules on, a feasibility model learns from them and its "
                           f"probability weights the proposals; {n_failed} so far.")
        else:
            feasibility = (f"A feasibility model learned from these {n_failed} failures; its probability (P(feasible)) "
                           "weights each proposal.")
        return RoundReport(
            campaign=s.campaign.name, round=round_number, target=s.campaign.target, unit=s.campaign.unit,
            direction=s.campaign.direction, limits=s.campaign.limits, model_name=s.model.name, model=model,
            X=training.X, y=training.y, noise_sd=noise if model.capabilities.known_noise else None,
            measurements=self.store.measurements(), failed=self.store.failed_experiments(),
            proposals=self.store.proposals(round_number),
            previous_proposals=self.store.proposals(round_number - 1) if round_number > 1 else None,
            pool=pool.molecules, pool_prediction=prediction, pool_summary=self.store.pool_summary(round_number),
            n_failures=len(failures), store_path=self.store.path, notes=tuple(notes), feasibility_note=feasibility,
            further=tuple(self._further_report(p, training) for p in s.campaign.properties),
        )
