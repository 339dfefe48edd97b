"""Generate a filtered, de-duplicated candidate pool from seed molecules or repeat units.

Generators (library, mutation, BRICS, SELFIES) are Python generators that take turns, one
proposal each, so every enabled source contributes until `max_candidates` are accepted. Each
proposal is screened at once and only strings are kept: the pool never holds RDKit molecules
for more than one candidate at a time. Memory grows with the distinct SMILES seen
(BENCHMARKS.md, "Candidate pools").

Every proposal ends up accepted or rejected with exactly one reason, checked cheapest first:
duplicate (the same text, or later the same identity, proposed before in this run, whatever
became of it), unparsable / radical / bad attachment points (standardisation), not a repeat
unit / not a small molecule (wrong kind for the mode), measured (in `exclude`), then the
filters of `discovery.pool.filters` (composition, SA score, alerts).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from discovery.chem import Molecule, MoleculeError, parse_molecule
from discovery.chem.repeat_unit import chain_key
from discovery.pool.brics import brics_proposals
from discovery.pool.filters import CandidateFilter
from discovery.pool.library import library_file, library_proposals
from discovery.pool.mutation import mutation_proposals
from discovery.pool.proposal import Proposal, Proposer
from discovery.pool.selfies_mutation import selfies_proposals
from discovery.pool.settings import PoolKind, PoolSettings

#: Columns of `Pool.candidates`.
COLUMNS = ("smiles", "identity", "origin", "parent", "sa_score")

#: Stream number of each random generator, so each has its own reproducible random stream.
_STREAMS = {"mutation": 0, "brics": 1, "selfies": 2}


@dataclass
class PoolSummary:
    """What happened to every seed and proposal.

    Attributes:
        kind: "molecule" or "polymer".
        seed: Random seed of the run.
        seeds_given: Seeds passed in.
        seeds_used: Distinct seeds that parsed and fit the mode.
        seed_rejections: Reason -> count for seeds that could not be used.
        proposed: Raw proposals from all generators.
        proposed_by_origin: Generator name -> raw proposals.
        accepted: Candidates in the pool.
        accepted_by_origin: Generator name -> accepted candidates.
        rejected: Reason -> count; sums to `proposed - accepted`.
        generator_failures: Generator name -> attempts that gave no valid structure (an
            impossible edit or join); these never became proposals.
        reached_max_candidates: Generation stopped at `max_candidates` rather than running out.
    """

    kind: PoolKind
    seed: int
    seeds_given: int = 0
    seeds_used: int = 0
    seed_rejections: dict[str, int] = field(default_factory=dict)
    proposed: int = 0
    proposed_by_origin: dict[str, int] = field(default_factory=dict)
    accepted: int = 0
    accepted_by_origin: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    generator_failures: dict[str, int] = field(default_factory=dict)
    reached_max_candidates: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable copy with count tables sorted by key."""
        out: dict[str, Any] = {}
        for key, value in vars(self).items():
            out[key] = {k: int(value[k]) for k in sorted(value)} if isinstance(value, dict) else value
        return out


@dataclass
class Pool:
    """Accepted candidates and the summary of how they were found.

    Attributes:
        candidates: One row per accepted unique candidate, in acceptance order, with columns
            smiles (canonical; PSMILES for repeat units), identity (`Molecule.identity`),
            origin (mutation | brics | library | selfies), parent (canonical SMILES of the seed
            it came from, several joined by "." for BRICS, "" for library entries) and
            sa_score (float, 1 easy .. 10 hard).
        summary: Counts of proposals, acceptances and rejections by reason.
    """

    candidates: pd.DataFrame
    summary: PoolSummary


def _key(molecule: Molecule, polymer: bool) -> str:
    """De-duplication key: the identity, or for a repeat unit the cut-independent chain key."""
    return chain_key(molecule.mol) if polymer else molecule.identity


def _parse_reason(error: MoleculeError) -> str:
    if "radical" in error.reason:
        return "radical"
    if "attachment point" in error.reason or "repeat unit" in error.reason:
        return "bad attachment points"
    return "unparsable"


class _Screen:
    """Standardises, de-duplicates and filters proposals, keeping only strings and counts."""

    def __init__(self, settings: PoolSettings, summary: PoolSummary, excluded: set[str]) -> None:
        self.polymer = summary.kind is PoolKind.POLYMER
        self.filter = CandidateFilter(settings.filters)
        self.summary = summary
        self.excluded = excluded
        self.rows: list[tuple[str, str, str, str, float]] = []
        self._proposed: Counter[str] = Counter()
        self._accepted: Counter[str] = Counter()
        self._rejected: Counter[str] = Counter()
        self._seen_text: set[str] = set()
        self._seen_keys: set[str] = set()

    def offer(self, proposal: Proposal) -> str | None:
        """Screen one proposal; the accepted candidate's canonical SMILES, or None."""
        self._proposed[proposal.origin] += 1
        reason, molecule, sa_score = self._judge(proposal.smiles)
        if reason is not None:
            self._rejected[reason] += 1
            return None
        assert molecule is not None
        self._accepted[proposal.origin] += 1
        self.rows.append((molecule.smiles, molecule.identity, proposal.origin, proposal.parent, sa_score))
        return molecule.smiles

    def _judge(self, text: str) -> tuple[str | None, Molecule | None, float]:
        # The same text twice is the same candidate: skip the parse (generators repeat a lot).
        if text in self._seen_text:
            return "duplicate", None, 0.0
        self._seen_text.add(text)
        try:
            molecule = parse_molecule(text)
        except MoleculeError as exc:
            return _parse_reason(exc), None, 0.0
        if molecule.is_polymer != self.polymer:
            return ("not a repeat unit" if self.polymer else "not a small molecule"), None, 0.0
        key = _key(molecule, self.polymer)
        if key in self.excluded:
            return "measured", None, 0.0
        if key in self._seen_keys:
            return "duplicate", None, 0.0
        self._seen_keys.add(key)
        reason = self.filter.composition_reason(molecule.mol)
        if reason is not None:
            return reason, None, 0.0
        sa_score = self.filter.sa_score(molecule)
        reason = self.filter.sa_reason(sa_score) or self.filter.alert_reason(molecule)
        return reason, molecule, sa_score

    def finish(self) -> None:
        s = self.summary
        s.proposed_by_origin, s.accepted_by_origin = dict(self._proposed), dict(self._accepted)
        s.proposed, s.accepted = sum(self._proposed.values()), len(self.rows)
        s.rejected = dict(self._rejected)


def _parse_seeds(seeds: Sequence[str], kind: PoolKind, summary: PoolSummary) -> list[Molecule]:
    """Standardised distinct seeds of the pool's kind; sets `summary.kind` and seed counts."""
    parsed: list[Molecule] = []
    rejections: Counter[str] = Counter()
    for text in seeds:
        try:
            parsed.append(parse_molecule(text))
        except MoleculeError as exc:
            rejections[_parse_reason(exc)] += 1
    if kind is PoolKind.AUTO:
        n_polymers = sum(m.is_polymer for m in parsed)
        kind = PoolKind.POLYMER if n_polymers > len(parsed) - n_polymers else PoolKind.MOLECULE
    summary.kind = kind
    polymer = kind is PoolKind.POLYMER
    used: dict[str, Molecule] = {}
    for molecule in parsed:
        if molecule.is_polymer != polymer:
            rejections["not a repeat unit" if polymer else "not a small molecule"] += 1
        elif molecule.identity in used:
            rejections["duplicate"] += 1
        else:
            used[molecule.identity] = molecule
    summary.seeds_given, summary.seeds_used = len(seeds), len(used)
    summary.seed_rejections = dict(rejections)
    return list(used.values())


def _excluded_keys(exclude: Iterable[str], polymer: bool) -> set[str]:
    """De-duplication keys of the excluded identities (repeat units re-standardised and re-keyed)."""
    keys = set()
    for identity in exclude:
        keys.add(identity)
        if polymer and identity.startswith("polymer:"):
            try:
                keys.add(_key(parse_molecule(identity.removeprefix("polymer:")), polymer))
            except MoleculeError:
                pass  # cannot match any valid candidate anyway
    return keys


def generate_pool(
    seeds: Sequence[str],
    settings: PoolSettings,
    *,
    exclude: Iterable[str] = (),
    seed: int = 0,
) -> Pool:
    """Generate candidates from the seeds, filter them and count every rejection.

    Args:
        seeds: SMILES or PSMILES: the measured molecules plus any the campaign lists. With
            `settings.kind` "auto", the pool is in polymer mode when most parsable seeds are
            repeat units. Unparsable seeds are counted in `summary.seed_rejections`.
        settings: Generators, filters and `max_candidates`.
        exclude: Identities (`Molecule.identity`) that must not be in the pool, e.g. measured
            or already proposed molecules. Seeds are not excluded unless listed here.
        seed: Seed of every random choice (>= 0); the same seed gives the same pool.

    Returns:
        The pool; `candidates` has the columns in `COLUMNS`.

    Raises:
        FileNotFoundError, ValueError: only for a missing or malformed library file (a bad row
            in it is counted, not raised).
    """
    summary = PoolSummary(kind=settings.kind, seed=seed)
    molecules = _parse_seeds(seeds, settings.kind, summary)
    polymer = summary.kind is PoolKind.POLYMER
    screen = _Screen(settings, summary, _excluded_keys(exclude, polymer))
    failures: dict[str, int] = {}

    def rng(name: str) -> np.random.Generator:
        return np.random.default_rng([seed, _STREAMS[name]])

    proposers: list[Proposer] = []
    if settings.library.path is not None:
        proposers.append(library_proposals(library_file(settings.library), settings.library.smiles_column))
    if molecules and settings.mutation.enabled:
        proposers.append(mutation_proposals(molecules, settings.mutation, rng("mutation"), failures))
    if molecules and settings.brics.enabled:
        proposers.append(brics_proposals(molecules, settings.brics, rng("brics"), failures, polymer=polymer))
    if molecules and settings.selfies.enabled:
        proposers.append(selfies_proposals(molecules, settings.selfies, rng("selfies"), failures, polymer=polymer))

    queue: deque[tuple[Proposer, Proposal]] = deque()
    try:
        for proposer in proposers:
            first = next(proposer, None)
            if first is not None:
                queue.append((proposer, first))
        while queue and len(screen.rows) < settings.max_candidates:
            proposer, proposal = queue.popleft()
            verdict = screen.offer(proposal)
            try:
                queue.append((proposer, proposer.send(verdict)))
            except StopIteration:
                pass
    finally:
        for proposer in proposers:
            proposer.close()  # releases the library file when stopping early

    screen.finish()
    summary.generator_failures = dict(failures)
    summary.reached_max_candidates = len(screen.rows) >= settings.max_candidates
    candidates = pd.DataFrame(screen.rows, columns=list(COLUMNS))
    candidates["sa_score"] = candidates["sa_score"].astype(float)
    return Pool(candidates=candidates, summary=summary)
