"""Pool settings: the schema of `conf/pool/*.yaml` (Hydra group `pool`, schema `base_pool`).

`PoolSettings.from_dict` builds them from a plain mapping with the one config converter
(`discovery.config.from_mapping`): unknown keys and wrong types are refused with the dotted
key in the message, and every missing key takes its default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rdkit import Chem
from rdkit.Chem import FilterCatalog

from discovery.config import ConfigEnum, coerce_enums, from_mapping

# The names the settings accept, next to the defaults that use them; the generators and the
# filters read them from here.

#: Substituents by name: SMILES whose `*` is the atom they replace a hydrogen on. "oxo" (=O)
#: needs two hydrogens and makes a ketone, aldehyde, amide or lactam carbonyl.
SUBSTITUENTS: dict[str, str] = {
    "F": "*F",
    "Cl": "*Cl",
    "Br": "*Br",
    "I": "*I",
    "CH3": "*C",
    "C2H5": "*CC",
    "CF3": "*C(F)(F)F",
    "OH": "*O",
    "OCH3": "*OC",
    "NH2": "*N",
    "N(CH3)2": "*N(C)C",
    "CN": "*C#N",
    "NO2": "*[N+](=O)[O-]",
    "oxo": "*=O",
    "CHO": "*C=O",
    "COCH3": "*C(C)=O",
    "COOH": "*C(=O)O",
    "COOCH3": "*C(=O)OC",
    "OCOCH3": "*OC(C)=O",
    "CONH2": "*C(N)=O",
    "SO2CH3": "*S(C)(=O)=O",
    "phenyl": "*c1ccccc1",
}

#: Chain units by name: SMILES whose two `*` bond to the two atoms of the bond they go into.
CHAIN_UNITS: dict[str, str] = {
    "CH2": "*C*",
    "O": "*O*",
    "S": "*S*",
    "NH": "*N*",
    "C=O": "*C(*)=O",
    "COO": "*C(=O)O*",
    "CONH": "*C(=O)N*",
    "OCOO": "*OC(=O)O*",
    "SO2": "*S(*)(=O)=O",
    "CH=CH": "*C=C*",
    "p-phenylene": "*c1ccc(*)cc1",
}

#: Mutation operators: each is the method `Mutator._<name>` of `discovery.pool.mutation`, documented there.
OPERATORS: tuple[str, ...] = (
    "atom_swap",
    "add_substituent",
    "remove_substituent",
    "replace_substituent",
    "chain_insert",
    "chain_delete",
    "ring_resize",
    "ring_saturation",
)

#: Alert catalogue names accepted in `filters.alerts`: RDKit's FilterCatalog sets plus UNSTABLE
#: (`discovery.pool.filters.UNSTABLE_ALERTS`).
ALERT_CATALOGUES: tuple[str, ...] = tuple(
    sorted([*(n for n in FilterCatalog.FilterCatalogParams.FilterCatalogs.names if n != "ALL"), "UNSTABLE"])
)


class PoolKind(ConfigEnum):
    AUTO = "auto"  # polymer mode when most parsed seeds are repeat units
    MOLECULE = "molecule"
    POLYMER = "polymer"


class ScreeningMethod(ConfigEnum):
    NONE = "none"  # featurise and predict every candidate
    FINGERPRINT_GP = "fingerprint_gp"  # Tanimoto GP on Morgan fingerprints: no QM


def _known(kind: str, names: Sequence[str], known: Sequence[str]) -> list[str]:
    unknown = [n for n in names if n not in known]
    return [f"unknown {kind} {', '.join(map(repr, unknown))}; known: {', '.join(known)}"] if unknown else []


def _elements(key: str, symbols: Sequence[str]) -> list[str]:
    table = Chem.GetPeriodicTable()
    bad = []
    for symbol in symbols:
        try:
            number = table.GetAtomicNumber(symbol)
        except RuntimeError:
            number = 0
        if number < 1 or table.GetElementSymbol(number) != symbol:
            bad.append(symbol)
    return [f"{key}: not element symbols: {', '.join(map(repr, bad))}"] if bad else []


def _check(where: str, problems: list[str]) -> None:
    if problems:
        raise ValueError(f"invalid pool settings ({where}): " + "; ".join(problems))


@dataclass(frozen=True)
class MutationSettings:
    """Graph mutations of the seeds (see `discovery.pool.mutation`).

    Attributes:
        enabled: Run this generator.
        generations: Rounds of mutation; accepted children of one round are the parents of the next.
        children_per_parent: Distinct children proposed per parent and round.
        operators: Relative weight of each operator in `OPERATORS` (see `discovery.pool.mutation`);
            weight 0 switches one off. In a config the given weights update these defaults;
            `MutationSettings(operators=...)` takes exactly the given ones (pairs or a mapping).
        substituents: Names from `SUBSTITUENTS` that may be added.
        chain_units: Names from `CHAIN_UNITS` that may be inserted into chains.
        swap_elements: Elements `atom_swap` trades among.
        max_substituent_atoms: Largest side group (heavy atoms) that may be removed or replaced.
    """

    enabled: bool = True
    generations: int = 3
    children_per_parent: int = 10
    operators: dict[str, float] = field(default_factory=lambda: {
        "atom_swap": 1.0,  # C/N/O/S exchange where the valence allows (CH2 -> O, CH -> N, ...)
        "add_substituent": 2.0,  # a substituent replaces a hydrogen
        "remove_substituent": 1.0,  # a small side group becomes hydrogen
        "replace_substituent": 2.0,  # a small side group becomes a substituent
        "chain_insert": 1.0,  # a chain unit goes into an acyclic single bond
        "chain_delete": 1.0,  # an acyclic two-connected atom is cut out
        "ring_resize": 0.5,  # saturated 5-7-membered rings grow or shrink by CH2
        "ring_saturation": 0.5,  # isolated benzene <-> cyclohexane
    })
    substituents: tuple[str, ...] = (
        "F", "Cl", "Br", "CH3", "CF3", "OH", "OCH3", "NH2", "CN", "NO2", "oxo", "COOH", "COOCH3", "phenyl",
    )  # fmt: skip
    chain_units: tuple[str, ...] = ("CH2", "O", "S", "NH", "C=O", "COO", "CONH")
    swap_elements: tuple[str, ...] = ("C", "N", "O", "S")
    max_substituent_atoms: int = 6

    def __post_init__(self) -> None:
        object.__setattr__(self, "operators", dict(self.operators))
        problems = _known("operator", list(self.operators), OPERATORS)
        problems += _known("substituent", self.substituents, list(SUBSTITUENTS))
        problems += _known("chain unit", self.chain_units, list(CHAIN_UNITS))
        problems += _elements("swap_elements", self.swap_elements)
        if self.generations < 0:
            problems.append("generations must be >= 0")
        if self.children_per_parent < 1:
            problems.append("children_per_parent must be >= 1")
        weights = self.operators.values()
        if any(w < 0 for w in weights) or (self.enabled and not any(w > 0 for w in weights)):
            problems.append("operator weights must be >= 0 with at least one > 0")
        if not self.substituents:
            problems.append("substituents must not be empty")
        if not self.chain_units:
            problems.append("chain_units must not be empty")
        if self.max_substituent_atoms < 1:
            problems.append("max_substituent_atoms must be >= 1")
        _check("mutation", problems)


@dataclass(frozen=True)
class BricsSettings:
    """BRICS fragment recombination of the seeds (see `discovery.pool.brics`).

    Attributes:
        enabled: Run this generator.
        max_products: Distinct products to propose at most.
        max_fragments: Fragments per product at most.
    """

    enabled: bool = True
    max_products: int = 2000
    max_fragments: int = 4

    def __post_init__(self) -> None:
        problems = []
        if self.max_products < 1:
            problems.append("max_products must be >= 1")
        if self.max_fragments < 2:
            problems.append("max_fragments must be >= 2")
        _check("brics", problems)


@dataclass(frozen=True)
class LibrarySettings:
    """A user file of candidates (see `discovery.pool.library`).

    Attributes:
        path: CSV/TSV or SMILES file; None for no library.
        smiles_column: Column holding the SMILES in a CSV/TSV.
    """

    path: str | None = None
    smiles_column: str = "smiles"


@dataclass(frozen=True)
class SelfiesSettings:
    """SELFIES token mutations of the seeds (see `discovery.pool.selfies_mutation`).

    Attributes:
        enabled: Run this generator.
        generations: Rounds of mutation.
        children_per_parent: Distinct children proposed per parent and round.
        max_edits: Token edits per child at most.
        elements: Elements whose tokens may be inserted.
    """

    enabled: bool = False
    generations: int = 1
    children_per_parent: int = 10
    max_edits: int = 2
    elements: tuple[str, ...] = ("C", "N", "O", "S", "F", "Cl")

    def __post_init__(self) -> None:
        problems = _elements("elements", self.elements)
        if self.generations < 0:
            problems.append("generations must be >= 0")
        if self.children_per_parent < 1:
            problems.append("children_per_parent must be >= 1")
        if self.max_edits < 1:
            problems.append("max_edits must be >= 1")
        _check("selfies", problems)


@dataclass(frozen=True)
class FilterSettings:
    """What a candidate must satisfy (see `discovery.pool.filters`).

    Attributes:
        allowed_elements: Element symbols allowed (hydrogen always is).
        min_heavy_atoms: Fewest heavy atoms (repeat units: besides the two `[*]`).
        max_heavy_atoms: Most heavy atoms.
        allow_charged: Keep net-charged or zwitterionic candidates.
        max_sa_score: Highest synthetic accessibility score kept (1 easy .. 10 hard); None = no cut.
        alerts: Alert catalogues: RDKit FilterCatalog names (PAINS, BRENK, NIH, ZINC, ...) or UNSTABLE.
    """

    allowed_elements: tuple[str, ...] = ("H", "C", "N", "O", "F", "P", "S", "Cl", "Br", "I")
    min_heavy_atoms: int = 3
    max_heavy_atoms: int = 35
    allow_charged: bool = False
    max_sa_score: float | None = 4.5
    alerts: tuple[str, ...] = ("PAINS", "BRENK")

    def __post_init__(self) -> None:
        problems = _elements("allowed_elements", self.allowed_elements)
        problems += _known("alert catalogue", self.alerts, ALERT_CATALOGUES)
        if not 1 <= self.min_heavy_atoms <= self.max_heavy_atoms:
            problems.append("need 1 <= min_heavy_atoms <= max_heavy_atoms")
        if self.max_sa_score is not None and not 1 <= self.max_sa_score <= 10:
            problems.append("max_sa_score must be in [1, 10] or null")
        _check("filters", problems)


@dataclass(frozen=True)
class ScreeningSettings:
    """A cheap first stage for pools too large to featurise (`discovery.acquisition.screening`).

    With `method="fingerprint_gp"` a Tanimoto GP on Morgan fingerprints, fitted on the measured
    molecules, ranks every generated candidate by its probability of beating the best measured
    value; only the `shortlist` best go on to GFN2-xTB and the main model. A share
    `explore_fraction` of the shortlist is drawn at random (with the round's seed) from the
    candidates ranked below it, so that what the first stage gets wrong can still reach the main
    model. Pools no larger than `shortlist` are not screened.

    Attributes:
        method: "none" (featurise every candidate) or "fingerprint_gp".
        shortlist: Candidates passed on per round.
        explore_fraction: Share of the shortlist drawn at random from the rest, in [0, 1).
    """

    method: ScreeningMethod = ScreeningMethod.NONE
    shortlist: int = 200
    explore_fraction: float = 0.2

    def __post_init__(self) -> None:
        coerce_enums(self, "pool.screening.")
        problems = []
        if self.shortlist < 1:
            problems.append("shortlist must be >= 1")
        if not 0 <= self.explore_fraction < 1:
            problems.append("explore_fraction must be in [0, 1)")
        _check("screening", problems)


@dataclass(frozen=True)
class PoolSettings:
    """How the candidate pool is generated and filtered.

    Attributes:
        kind: "auto" (polymer mode when most parsed seeds are repeat units), "molecule" or "polymer";
            a polymer pool never edits the two `[*]` and keeps exactly two attachment points.
        max_candidates: Generation stops once this many candidates are accepted.
        mutation: Graph mutation generator.
        brics: BRICS recombination generator.
        library: User library file.
        selfies: SELFIES mutation generator.
        filters: Candidate filters.
        screening: Cheap first stage that shortlists the generated pool before featurisation.
    """

    kind: PoolKind = PoolKind.AUTO
    max_candidates: int = 2000
    mutation: MutationSettings = field(default_factory=MutationSettings)
    brics: BricsSettings = field(default_factory=BricsSettings)
    library: LibrarySettings = field(default_factory=LibrarySettings)
    selfies: SelfiesSettings = field(default_factory=SelfiesSettings)
    filters: FilterSettings = field(default_factory=FilterSettings)
    screening: ScreeningSettings = field(default_factory=ScreeningSettings)

    def __post_init__(self) -> None:
        coerce_enums(self, "pool.")
        problems = []
        if self.max_candidates < 1:
            problems.append("max_candidates must be >= 1")
        _check("pool", problems)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> PoolSettings:
        """Build from a plain mapping (e.g. a YAML file or Hydra's `cfg.pool` as a container).

        Raises:
            ValueError: naming the dotted key of an unknown key or a value of the wrong type,
                or listing the values that fail validation.
        """
        return from_mapping(cls, values, "pool")

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form, accepted by `from_dict`."""
        return dataclasses.asdict(self)
