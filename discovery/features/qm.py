"""GFN2-xTB descriptors of one molecule or polymer repeat unit (a QMex-like set).

Every descriptor has its unit in its name; `DESCRIPTORS` documents method and unit, and
`scripts/readme_tables.py` writes the README's descriptor table from it. Polymers are computed on
a capped oligomer whose length follows the repeat unit's size; extensive quantities
(`per_repeat_unit`) are the oligomer's value minus its end groups' (the two caps bonded to each
other), divided by the number of units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import units
from rdkit import Chem
from rdkit.Chem import Descriptors, rdMolDescriptors

from discovery.chem import Molecule, build_oligomer, parse_molecule
from discovery.chem.polymer import END_GROUP_SMILES, oligomer_units
from discovery.chem.conformers import Conformer, EmbeddingError, embed_conformers
from discovery.features.backends import BOHR_PER_ANGSTROM, QMBackend, SCFError, SCFResult, get_backend
from discovery.features.settings import QMSettings

HARTREE_TO_EV = units.Hartree
HARTREE_TO_KCAL_MOL = units.Hartree * units.mol / units.kcal
AU_TO_DEBYE = units.Bohr / units.Debye  # e·Bohr in Debye
# h / (8 π² · 1 amu·Å²) in GHz
ROTATIONAL_CONSTANT_GHZ_AMU_A2 = units._hplanck / (8 * np.pi**2 * units._amu * 1e-20) / 1e9


class QMError(RuntimeError):
    """A descriptor calculation that failed after all retries; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Descriptor:
    name: str
    unit: str
    method: str
    per_repeat_unit: bool = False  # polymers: (oligomer − end groups) / repeat units
    needs_acid_base: bool = False


DESCRIPTORS: tuple[Descriptor, ...] = (
    Descriptor("molecular_weight_g_mol", "g/mol", "RDKit average molecular weight (of the repeat unit for polymers)"),
    Descriptor("electrons_per_atom", "e/atom", "electrons of the neutral species / atoms, H included (repeat unit for polymers)"),
    Descriptor("homo_ev", "eV", "highest occupied orbital energy, GFN2-xTB gas phase"),
    Descriptor("lumo_ev", "eV", "lowest unoccupied orbital energy, GFN2-xTB gas phase"),
    Descriptor("gap_ev", "eV", "LUMO − HOMO"),
    Descriptor("ionization_energy_ev", "eV", "vertical ΔSCF: E(cation) − E(neutral) at the neutral geometry, gas phase, no empirical shift"),
    Descriptor("electron_affinity_ev", "eV", "vertical ΔSCF: E(neutral) − E(anion) at the neutral geometry, gas phase"),
    Descriptor("volume_a3", "Å³", "van der Waals volume, double cubic lattice method (RDKit DoubleCubicLatticeVolume)", per_repeat_unit=True),
    Descriptor("polarizability_au", "Bohr³", "isotropic static polarisability, finite field: mean of dμ_i/dF_i (forward difference)", per_repeat_unit=True),
    Descriptor("polarizability_per_volume", "Bohr³/Bohr³", "polarisability / vdW volume (dimensionless; Clausius–Mossotti-like packing of polarisability)"),
    Descriptor("radius_of_gyration_a", "Å", "mass-weighted radius of gyration of the geometry used (the oligomer for polymers)"),
    Descriptor("dipole_debye", "D", "magnitude of the dipole moment of the GFN2-xTB density, gas phase", per_repeat_unit=True),
    Descriptor("quadrupole_au", "e·Bohr²", "Frobenius norm of the traceless quadrupole tensor, gas phase"),
    Descriptor("rotational_constant_ghz", "GHz", "h/(8π²I) with I the geometric mean of the non-zero principal moments of inertia"),
    Descriptor("charge_min_e", "e", "most negative Mulliken atomic charge"),
    Descriptor("charge_max_e", "e", "most positive Mulliken atomic charge"),
    Descriptor("bond_order_min", "1", "smallest Wiberg bond order over the bonds of the structure"),
    Descriptor("bond_order_max", "1", "largest Wiberg bond order over the bonds of the structure"),
    Descriptor("solvation_water_kcal_mol", "kcal/mol", "ALPB(water) − gas-phase energy at fixed geometry", per_repeat_unit=True),
    Descriptor("solvation_octanol_kcal_mol", "kcal/mol", "ALPB(1-octanol) − gas-phase energy at fixed geometry", per_repeat_unit=True),
    Descriptor("deprotonation_energy_ev", "eV", "min over acidic sites of E(A⁻) − E(HA), both in ALPB water; proton removed at the neutral geometry; molecules without H get methane's value", needs_acid_base=True),
    Descriptor("protonation_energy_ev", "eV", "min over basic sites of E(BH⁺) − E(B), both in ALPB water; added H placed by hybridisation and relaxed alone", needs_acid_base=True),
)


#: Extensive descriptors: per repeat unit for polymers (see the module docstring).
_PER_REPEAT_UNIT = tuple(d.name for d in DESCRIPTORS if d.per_repeat_unit)


def descriptor_names(settings: QMSettings) -> list[str]:
    """The descriptor columns these settings produce, in order."""
    return [d.name for d in DESCRIPTORS if settings.acid_base or not d.needs_acid_base]


# Candidate sites in order of preference; the first `max_acid_base_sites` distinct atoms are tried.
_ACID_SMARTS = [
    "[OX2H1][CX3,SX4,PX4]=O",  # carboxylic, sulfonic, phosphonic acid
    "[OX2H1]c",  # phenol
    "[SX2H1]",  # thiol
    "[NX3H1,NX3H2]([CX3,SX4]=O)",  # amide / imide / sulfonamide NH
    "[nH1]",  # pyrrole-type NH
    "[OX2H1]",  # alcohol
    "[NX3;H1,H2;!$(N-[C,S]=O)]",  # amine NH
    "[CX4;!H0][CX3,CX2,SX4]=,#[O,N]",  # C-H alpha to carbonyl / nitrile / sulfone
    "[#6;!H0]",  # any C-H
    "[!#1;!H0]",  # any X-H
]
_BASE_SMARTS = [
    "[NX3;H2,H1,H0;!$(N-[C,S,P]=[O,S,N]);!$(N-a);!$(N#*);!$([N]=*)]",  # aliphatic amine
    "[NX2;!$(N=O)]=[C,N]",  # imine / amidine
    "[nX2]",  # pyridine-type N
    "[NX3;$(N-a)]",  # aniline
    "[OX1]=[C,S,P]",  # carbonyl / sulfonyl / phosphoryl oxygen
    "[OX2;!$(O=*)]",  # ether / alcohol oxygen
    "[SX2]",  # thioether
    "[NX1]#C",  # nitrile N
    "[#7,#8,#15,#16]",  # any other lone-pair heteroatom
    "[c,$(C=C)]",  # π carbon (aromatics, alkenes)
    "[#6]",  # any carbon (alkanes: carbonium, a last resort)
    "[!#1]",  # any heavy atom
]
_ACID_PATTERNS = [Chem.MolFromSmarts(s) for s in _ACID_SMARTS]
_BASE_PATTERNS = [Chem.MolFromSmarts(s) for s in _BASE_SMARTS]
_XH_BOND_ANGSTROM = {6: 1.09, 7: 1.01, 8: 0.97, 15: 1.42, 16: 1.34}


def _candidate_sites(molh: Chem.Mol, patterns: list[Chem.Mol], limit: int) -> list[int]:
    """Heavy-atom indices matched by the first atom of each pattern, symmetry-unique, in order."""
    ranks = list(Chem.CanonicalRankAtoms(molh, breakTies=False))
    seen_ranks: set[int] = set()
    sites: list[int] = []
    for pattern in patterns:
        for match in molh.GetSubstructMatches(pattern):
            atom = match[0]
            if molh.GetAtomWithIdx(atom).GetAtomicNum() in (0, 1) or ranks[atom] in seen_ranks:
                continue
            seen_ranks.add(ranks[atom])
            sites.append(atom)
            if len(sites) == limit:
                return sites
    return sites


def _with_positions(molh: Chem.Mol, positions_angstrom: np.ndarray) -> Chem.Mol:
    """A copy of `molh` whose only conformer has the given coordinates (Å)."""
    geometry = Chem.Mol(molh)
    geometry.RemoveAllConformers()
    conformer = Chem.Conformer(geometry.GetNumAtoms())
    for i, xyz in enumerate(positions_angstrom):
        conformer.SetAtomPosition(i, xyz.tolist())
    geometry.AddConformer(conformer, assignId=True)
    return geometry


def _proton_position(molh: Chem.Mol, positions_bohr: np.ndarray, site: int) -> np.ndarray:
    """Where a proton added to heavy atom `site` goes (Bohr).

    Heteroatoms: RDKit places the new H from the site's hybridisation (sp3 N tetrahedral, C=O
    at 120° in plane). Carbon (no valence for it in RDKit's model of a carbocation): along the
    direction away from the neighbours, out of plane for planar sites.
    """
    geometry = Chem.RWMol(_with_positions(molh, positions_bohr / BOHR_PER_ANGSTROM))
    atom = geometry.GetAtomWithIdx(site)
    atom.SetFormalCharge(atom.GetFormalCharge() + 1)
    atom.SetNoImplicit(False)
    try:
        geometry.UpdatePropertyCache(strict=True)
        if atom.GetNumImplicitHs() == 1:
            protonated = Chem.AddHs(geometry, addCoords=True, onlyOnAtoms=(site,))
            xyz = protonated.GetConformer().GetAtomPosition(protonated.GetNumAtoms() - 1)
            return np.array([xyz.x, xyz.y, xyz.z]) * BOHR_PER_ANGSTROM
    except Exception:  # valence model refuses the cation; use the geometric rule
        pass
    neighbours = [n.GetIdx() for n in molh.GetAtomWithIdx(site).GetNeighbors()]
    bond = _XH_BOND_ANGSTROM.get(molh.GetAtomWithIdx(site).GetAtomicNum(), 1.1) * BOHR_PER_ANGSTROM
    return positions_bohr[site] + bond * _away_from_neighbours(positions_bohr, site, neighbours)


def _away_from_neighbours(positions: np.ndarray, atom: int, neighbours: list[int]) -> np.ndarray:
    """Unit vector pointing away from the neighbours; out of plane for planar or linear sites."""
    if not neighbours:
        return np.array([0.0, 0.0, 1.0])
    bonds = positions[neighbours] - positions[atom]
    bonds /= np.linalg.norm(bonds, axis=1, keepdims=True)
    direction = -bonds.sum(axis=0)
    if np.linalg.norm(direction) < 0.3:
        if len(neighbours) >= 2:
            direction = np.cross(bonds[0], bonds[1])
        else:
            direction = np.cross(bonds[0], [1.0, 0.0, 0.0])
            if np.linalg.norm(direction) < 1e-3:
                direction = np.cross(bonds[0], [0.0, 1.0, 0.0])
    return direction / np.linalg.norm(direction)


def _atomic_masses(numbers: np.ndarray) -> np.ndarray:
    table = Chem.GetPeriodicTable()
    return np.array([table.GetAtomicWeight(int(z)) for z in numbers])


def _center_of_mass_frame(numbers: np.ndarray, positions: np.ndarray) -> np.ndarray:
    masses = _atomic_masses(numbers)
    return positions - (masses[:, None] * positions).sum(axis=0) / masses.sum()


def _moment_descriptors(numbers: np.ndarray, positions_angstrom: np.ndarray) -> tuple[float, float]:
    """(radius of gyration / Å, rotational constant / GHz)."""
    masses = _atomic_masses(numbers)
    rel = _center_of_mass_frame(numbers, positions_angstrom)
    rg = float(np.sqrt((masses * (rel**2).sum(axis=1)).sum() / masses.sum()))
    inertia = np.eye(3) * (masses * (rel**2).sum(axis=1)).sum() - np.einsum("i,ij,ik->jk", masses, rel, rel)
    moments = np.linalg.eigvalsh(inertia)
    nonzero = moments[moments > 1e-6 * max(moments.max(), 1e-12)]
    if nonzero.size == 0:
        raise QMError("monatomic species have no rotational constant; not supported")
    mean_moment = float(np.exp(np.log(nonzero).mean()))
    return rg, ROTATIONAL_CONSTANT_GHZ_AMU_A2 / mean_moment


def _vdw_volume_a3(molh: Chem.Mol, positions_angstrom: np.ndarray) -> float:
    """Van der Waals volume (Å³) by the double cubic lattice method: the value of a fine grid
    at a fraction of its cost (BENCHMARKS.md, "Featurisation")."""
    geometry = _with_positions(molh, positions_angstrom)
    lattice = rdMolDescriptors.DoubleCubicLatticeVolume(geometry, isProtein=False, includeLigand=True, probeRadius=0.0)
    return float(lattice.GetVDWVolume())


def _frontier_orbitals(result: SCFResult) -> tuple[float, float]:
    occupied = np.where(result.occupations > 1.0)[0]
    if occupied.size == 0 or occupied[-1] + 1 >= result.orbital_energies_hartree.size:
        raise SCFError("no HOMO/LUMO pair in the orbital spectrum")
    homo_index = occupied[-1]
    return (
        float(result.orbital_energies_hartree[homo_index]) * HARTREE_TO_EV,
        float(result.orbital_energies_hartree[homo_index + 1]) * HARTREE_TO_EV,
    )


def _quadrupole_norm(quadrupole: np.ndarray | None, charges: np.ndarray, positions_bohr: np.ndarray) -> float:
    if quadrupole is not None:
        xx, xy, yy, xz, yz, zz = quadrupole
        q = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
    else:  # point-charge quadrupole from Mulliken charges (engines without a multipole printout)
        q = np.einsum("i,ij,ik->jk", charges, positions_bohr, positions_bohr)
        q = 1.5 * q - 0.5 * np.eye(3) * np.trace(q)
    q = q - np.eye(3) * np.trace(q) / 3.0
    return float(np.sqrt((q**2).sum()))


class DescriptorCalculator:
    """Computes `descriptor_names(settings)` for one `Molecule` with the configured engine."""

    def __init__(self, settings: QMSettings) -> None:
        self.settings = settings
        self.backend: QMBackend = get_backend(settings.backend)
        self.names = descriptor_names(settings)
        self._reference: dict[tuple[str, float], float] = {}
        self._end_groups: dict[str, float] | None = None

    def compute(self, molecule: Molecule) -> tuple[dict[str, float], str]:
        """Descriptors of one molecule.

        Returns:
            The descriptor values (all finite) and a note ("" unless a retry was needed).

        Raises:
            QMError: with the reason, after every retry failed.
        """
        s = self.settings
        n_units = oligomer_units(molecule, s.oligomer_length, s.oligomer_max_heavy_atoms) if molecule.is_polymer else 1
        structure = build_oligomer(molecule, n_units, s.oligomer_cap) if molecule.is_polymer else Chem.Mol(molecule.mol)
        n_atoms = Chem.AddHs(structure).GetNumAtoms()
        if n_atoms > s.max_atoms:
            raise QMError(f"{n_atoms} atoms exceed the limit of {s.max_atoms} (qm.max_atoms)")
        try:
            molh, conformers = embed_conformers(structure, s.n_conformers, s.seed)
        except EmbeddingError as exc:
            raise QMError(str(exc)) from None

        composition = _composition_descriptors(molecule)
        # Retry plan: next conformer, then a higher electronic temperature.
        attempts = [(c, s.electronic_temperature_k) for c in range(min(2, len(conformers)))]
        attempts.append((0, s.retry_electronic_temperature_k))
        failures: list[str] = []
        for conformer_index, temperature in attempts:
            try:
                values, note = self._compute_on(molh, conformers[conformer_index], temperature)
            except SCFError as exc:
                failures.append(f"conformer {conformer_index} at {temperature:g} K: {exc}")
                continue
            values.update(composition)
            if molecule.is_polymer:
                values = self._per_repeat_unit(values, n_units)
            bad = [k for k in self.names if not np.isfinite(values.get(k, np.nan))]
            if bad:
                failures.append(f"non-finite {', '.join(bad)}")
                continue
            if failures:
                note = "; ".join(filter(None, [note, f"recovered after: {' | '.join(failures)}"]))
            return {k: float(values[k]) for k in self.names}, note
        raise QMError("SCF failed on every retry: " + " | ".join(failures))

    def _scf(self, numbers, positions, temperature, full_output: bool = False, **kwargs) -> SCFResult:
        return self.backend.singlepoint(
            numbers, positions, electronic_temperature_k=temperature,
            max_iterations=self.settings.max_scf_iterations, full_output=full_output, **kwargs,
        )

    def _per_repeat_unit(self, values: dict[str, float], n_units: int) -> dict[str, float]:
        """Extensive descriptors of one repeat unit: (oligomer − end groups) / units."""
        if self._end_groups is None:
            end_groups = parse_molecule(END_GROUP_SMILES[self.settings.oligomer_cap])
            computed, _ = self.compute(end_groups)
            self._end_groups = {name: computed[name] for name in _PER_REPEAT_UNIT}
        out = dict(values)
        for name in _PER_REPEAT_UNIT:
            # the dipole is a vector sum: the caps' own (zero for both caps) is not subtracted;
            # |M|/n predicted permittivity better than the random-chain |M|/√n (BENCHMARKS.md,
            # "Oligomer by size")
            end = 0.0 if name == "dipole_debye" else self._end_groups[name]
            out[name] = (values[name] - end) / n_units
        return out

    def _compute_on(self, molh: Chem.Mol, conformer: Conformer, temperature: float) -> tuple[dict[str, float], str]:
        s = self.settings
        numbers = conformer.numbers
        charge = Chem.GetFormalCharge(molh)
        n_electrons = int(numbers.sum()) - charge
        uhf = n_electrons % 2
        # Centre of mass at the origin: the quadrupole of a polar molecule depends on the origin.
        positions = _center_of_mass_frame(numbers, conformer.positions_angstrom) * BOHR_PER_ANGSTROM
        note = ""
        if s.optimize_geometry:
            positions, converged = self.backend.optimize(
                numbers, positions, charge=charge,
                fmax_ev_per_angstrom=s.opt_fmax_ev_per_angstrom, max_steps=s.opt_max_steps,
            )
            if not converged:
                note = f"geometry optimisation stopped at {s.opt_max_steps} steps before convergence"

        gas = self._scf(numbers, positions, temperature, full_output=True, charge=charge, uhf=uhf)
        homo, lumo = _frontier_orbitals(gas)
        # the neutral density is a good start for the ions (same energies to 1e-8 Eh, fewer iterations)
        cation = self._scf(numbers, positions, temperature, charge=charge + 1, uhf=1 - uhf, guess=gas)
        anion = self._scf(numbers, positions, temperature, charge=charge - 1, uhf=1 - uhf, guess=gas)
        polarizabilities = []
        for axis in range(3):
            field = np.zeros(3)
            field[axis] = s.field_strength_au
            fielded = self._scf(numbers, positions, temperature, charge=charge, uhf=uhf, field_au=field, guess=gas)
            polarizabilities.append((fielded.dipole_au[axis] - gas.dipole_au[axis]) / s.field_strength_au)
        water = self._scf(numbers, positions, temperature, charge=charge, uhf=uhf, solvent="water", guess=gas)
        octanol = self._scf(numbers, positions, temperature, charge=charge, uhf=uhf, solvent="octanol", guess=gas)

        positions_angstrom = positions / BOHR_PER_ANGSTROM
        volume = _vdw_volume_a3(molh, positions_angstrom)
        rg, rotational = _moment_descriptors(numbers, positions_angstrom)
        bonds = [(b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in molh.GetBonds()]
        bond_orders = np.array([gas.bond_orders[i, j] for i, j in bonds]) if bonds else np.array([np.nan])
        polarizability = float(np.mean(polarizabilities))
        values = {
            "homo_ev": homo,
            "lumo_ev": lumo,
            "gap_ev": lumo - homo,
            "ionization_energy_ev": (cation.energy_hartree - gas.energy_hartree) * HARTREE_TO_EV,
            "electron_affinity_ev": (gas.energy_hartree - anion.energy_hartree) * HARTREE_TO_EV,
            "volume_a3": volume,
            "polarizability_au": polarizability,
            "polarizability_per_volume": polarizability / (volume * BOHR_PER_ANGSTROM**3),
            "radius_of_gyration_a": rg,
            "dipole_debye": float(np.linalg.norm(gas.dipole_au)) * AU_TO_DEBYE,
            "quadrupole_au": _quadrupole_norm(gas.quadrupole_au, gas.charges_e, positions),
            "rotational_constant_ghz": rotational,
            "charge_min_e": float(gas.charges_e.min()),
            "charge_max_e": float(gas.charges_e.max()),
            "bond_order_min": float(bond_orders.min()),
            "bond_order_max": float(bond_orders.max()),
            "solvation_water_kcal_mol": (water.energy_hartree - gas.energy_hartree) * HARTREE_TO_KCAL_MOL,
            "solvation_octanol_kcal_mol": (octanol.energy_hartree - gas.energy_hartree) * HARTREE_TO_KCAL_MOL,
        }
        if s.acid_base:
            values["deprotonation_energy_ev"] = self._deprotonation(molh, numbers, positions, charge, water, temperature)
            values["protonation_energy_ev"] = self._protonation(molh, numbers, positions, charge, water, temperature)
        return values, note

    def _deprotonation(self, molh, numbers, positions, charge, water: SCFResult, temperature) -> float:
        hydrogens_by_site = []
        for site in _candidate_sites(molh, _ACID_PATTERNS, self.settings.max_acid_base_sites):
            hydrogens = [n.GetIdx() for n in molh.GetAtomWithIdx(site).GetNeighbors() if n.GetAtomicNum() == 1]
            if hydrogens:
                hydrogens_by_site.append(hydrogens[0])
        if not hydrogens_by_site:
            # No hydrogen at all (CS2, perfluorocarbons): not a Brønsted acid. Use methane's
            # value, the weakest common C-H acid, so the column stays finite; `has_H` marks them.
            return self._methane_deprotonation_ev(temperature)

        def ion_energy(hydrogen: int) -> float:
            keep = np.ones(len(numbers), dtype=bool)
            keep[hydrogen] = False
            uhf = int(numbers.sum() - charge) % 2
            ion = self._scf(numbers[keep], positions[keep], temperature, charge=charge - 1, uhf=uhf, solvent="water")
            return ion.energy_hartree - water.energy_hartree

        return self._best_site(ion_energy, hydrogens_by_site, "deprotonated") * HARTREE_TO_EV

    def _protonation(self, molh, numbers, positions, charge, water: SCFResult, temperature) -> float:
        def ion_energy(site: int) -> float:
            ion_numbers = np.append(numbers, 1)
            ion_positions = np.vstack([positions, _proton_position(molh, positions, site)])
            # Relax only the new proton: cheap, and corrects the placement.
            ion_positions, _ = self.backend.optimize(
                ion_numbers, ion_positions, charge=charge + 1, fmax_ev_per_angstrom=0.1,
                max_steps=self.settings.proton_relax_steps, fixed_atoms=tuple(range(len(numbers))),
            )
            uhf = int(numbers.sum() - charge) % 2
            ion = self._scf(ion_numbers, ion_positions, temperature, charge=charge + 1, uhf=uhf, solvent="water")
            return ion.energy_hartree - water.energy_hartree

        sites = _candidate_sites(molh, _BASE_PATTERNS, self.settings.max_acid_base_sites)
        return self._best_site(ion_energy, sites, "protonated") * HARTREE_TO_EV

    @staticmethod
    def _best_site(energy_of, sites: list[int], what: str) -> float:
        """Lowest ion energy over the sites; a site whose ion SCF fails is skipped."""
        energies, failures = [], []
        for site in sites:
            try:
                energies.append(energy_of(site))
            except SCFError as exc:
                failures.append(str(exc))
        if not energies:
            raise SCFError(f"no site could be {what}: " + ("; ".join(failures) or "no candidate site"))
        return min(energies)

    def _methane_deprotonation_ev(self, temperature: float) -> float:
        key = ("methane_deprotonation", temperature)
        if key not in self._reference:
            methane = parse_molecule("C")
            molh, conformers = embed_conformers(methane.mol, 1, self.settings.seed)
            numbers = conformers[0].numbers
            positions = conformers[0].positions_angstrom * BOHR_PER_ANGSTROM
            if self.settings.optimize_geometry:
                positions, _ = self.backend.optimize(numbers, positions, fmax_ev_per_angstrom=self.settings.opt_fmax_ev_per_angstrom)
            water = self._scf(numbers, positions, temperature, solvent="water")
            methyl = self._scf(numbers[:-1], positions[:-1], temperature, charge=-1, solvent="water")
            self._reference[key] = (methyl.energy_hartree - water.energy_hartree) * HARTREE_TO_EV
        return self._reference[key]


def _composition_descriptors(molecule: Molecule) -> dict[str, float]:
    """Exact per-repeat-unit composition: the `*` atoms (mass 0) are not counted."""
    mol = Chem.AddHs(molecule.mol)
    atoms = [a for a in mol.GetAtoms() if a.GetAtomicNum() > 0]
    electrons = sum(a.GetAtomicNum() for a in atoms) - Chem.GetFormalCharge(mol)
    return {
        "molecular_weight_g_mol": float(Descriptors.MolWt(mol)),
        "electrons_per_atom": electrons / len(atoms),
    }
