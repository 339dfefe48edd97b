"""QM settings: the schema of `conf/qm/*.yaml` (Hydra group `qm`, schema `base_qm`)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from discovery.chem.polymer import CAPS, DEFAULT_OLIGOMER_LENGTH, DEFAULT_OLIGOMER_MAX_HEAVY_ATOMS
from discovery.config import ConfigEnum, coerce_enums, from_mapping

#: Versions of the descriptor code, for molecules and for polymer repeat units. Bump one whenever
#: a descriptor's definition changes for that kind, so its old cache entries are not reused.
DESCRIPTOR_CODE_VERSION = "1"
POLYMER_DESCRIPTOR_CODE_VERSION = "2"  # 2: oligomer length by size, end groups subtracted

#: Settings that only change polymer descriptors. (`oligomer_length` and `oligomer_cap` predate
#: the split and stay in the molecule token too, so existing molecule cache rows stay valid.)
_POLYMER_ONLY = ("oligomer_max_heavy_atoms",)


class QMPreset(ConfigEnum):
    FAST = "fast"  # screening: force-field geometry, no acid/base; built for large candidate pools
    FULL = "full"  # modelling: GFN2-xTB relaxed geometry and acid/base energetics in implicit water


class Backend(ConfigEnum):
    TBLITE = "tblite"
    XTB = "xtb"  # xtb-python, the optional `xtb` extra


#: What a preset sets; a field left at None takes its preset's value.
PRESETS: dict[QMPreset, dict[str, Any]] = {
    QMPreset.FAST: {"n_conformers": 3, "optimize_geometry": False, "acid_base": False, "timeout_s": 300.0},
    QMPreset.FULL: {"n_conformers": 5, "optimize_geometry": True, "acid_base": True, "timeout_s": 600.0},
}


@dataclass(frozen=True)
class QMSettings:
    """How descriptors are computed.

    Attributes:
        preset: "fast" or "full" (`PRESETS`): the values of the fields below left at None.
        backend: "tblite" (default) or "xtb".
        n_conformers: ETKDG conformers embedded; the lowest MMFF energy one is used, the
            others are fall-backs when an SCF fails.
        optimize_geometry: Relax the chosen conformer with GFN2-xTB (ASE LBFGS).
        acid_base: Compute deprotonation/protonation energies in implicit water.
        oligomer_length: Most repeat units in the capped oligomer built for a polymer.
        oligomer_max_heavy_atoms: Heavy-atom budget of those repeat units (caps excluded):
            a large repeat unit gets fewer copies, at least one (`chem.polymer.oligomer_units`).
            None: always `oligomer_length` units.
        oligomer_cap: End cap of the oligomer, "CH3" or "H".
        electronic_temperature_k: Fermi smearing temperature of the SCF.
        retry_electronic_temperature_k: Smearing used on retry when an SCF fails.
        field_strength_au: Finite-field step for the polarisability (Eh/(e·Bohr)).
        max_scf_iterations: SCF iteration cap.
        opt_fmax_ev_per_angstrom: Force criterion of the geometry optimisation.
        opt_max_steps: Step cap of the geometry optimisation.
        max_acid_base_sites: Candidate sites tried for each of deprotonation and protonation.
        proton_relax_steps: Optimiser steps relaxing an added proton (the rest held fixed).
        max_atoms: Molecules (or oligomers) with more atoms, hydrogens included, are refused.
        timeout_s: Wall-clock limit for one molecule (not part of the cache key).
        seed: Seed of the conformer embedding. A setting of the descriptors, not of a campaign:
            the campaign's `seed` does not change it, so every campaign seed reuses the cache.
    """

    preset: QMPreset = QMPreset.FAST
    backend: Backend = Backend.TBLITE
    n_conformers: int | None = None
    optimize_geometry: bool | None = None
    acid_base: bool | None = None
    oligomer_length: int = DEFAULT_OLIGOMER_LENGTH
    oligomer_max_heavy_atoms: int | None = DEFAULT_OLIGOMER_MAX_HEAVY_ATOMS
    oligomer_cap: str = "CH3"
    electronic_temperature_k: float = 300.0
    retry_electronic_temperature_k: float = 1500.0
    field_strength_au: float = 5e-4
    max_scf_iterations: int = 250
    opt_fmax_ev_per_angstrom: float = 0.05
    opt_max_steps: int = 300
    max_acid_base_sites: int = 3
    proton_relax_steps: int = 15
    max_atoms: int = 400
    timeout_s: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        coerce_enums(self, "qm.")
        for key, value in PRESETS[self.preset].items():
            if getattr(self, key) is None:
                object.__setattr__(self, key, value)
        problems = []
        if self.n_conformers < 1:
            problems.append("n_conformers must be >= 1")
        if self.oligomer_length < 1:
            problems.append("oligomer_length must be >= 1")
        if self.oligomer_max_heavy_atoms is not None and self.oligomer_max_heavy_atoms < 1:
            problems.append("oligomer_max_heavy_atoms must be >= 1 (or null for no budget)")
        if self.oligomer_cap not in CAPS:
            problems.append(f"oligomer_cap must be one of {sorted(CAPS)}, got {self.oligomer_cap!r}")
        if not 0 < self.field_strength_au < 0.01:
            problems.append("field_strength_au must be in (0, 0.01)")
        if self.electronic_temperature_k <= 0 or self.retry_electronic_temperature_k <= 0:
            problems.append("electronic temperatures must be positive")
        if self.timeout_s <= 0:
            problems.append("timeout_s must be positive")
        if self.max_acid_base_sites < 1:
            problems.append("max_acid_base_sites must be >= 1")
        if problems:
            raise ValueError("invalid QM settings: " + "; ".join(problems))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> QMSettings:
        """Build from a config mapping (e.g. Hydra's `cfg.qm`), refusing unknown keys and bad types."""
        return from_mapping(cls, values, "QM")

    def cache_token(self, *, polymer: bool) -> str:
        """Hash of everything that changes a descriptor value (not timeouts or preset names).

        Args:
            polymer: The token of polymer repeat units, which also depends on the polymer-only
                settings; a molecule's token does not, so changing them keeps molecule rows.
        """
        skipped = ("preset", "timeout_s") if polymer else ("preset", "timeout_s", *_POLYMER_ONLY)
        relevant = {k: v for k, v in dataclasses.asdict(self).items() if k not in skipped}
        relevant["code_version"] = DESCRIPTOR_CODE_VERSION
        if polymer:
            relevant["polymer_code_version"] = POLYMER_DESCRIPTOR_CODE_VERSION
        blob = json.dumps(relevant, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]
