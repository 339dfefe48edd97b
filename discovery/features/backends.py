"""GFN2-xTB engines behind one small interface: `tblite` (default) and `xtb` (xtb-python).

All quantities are atomic units (Hartree, Bohr, e·Bohr) unless a name says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from ase import units

from discovery.features.settings import Backend

BOHR_PER_ANGSTROM = 1.0 / units.Bohr
# ASE's, as tblite's own ASE calculator (our geometry optimiser) converts its temperature with it
KELVIN_TO_HARTREE = units.kB / units.Hartree


class SCFError(RuntimeError):
    """The self-consistent field did not converge or the engine rejected the input."""


@dataclass(frozen=True)
class SCFResult:
    """Result of one GFN2-xTB single point.

    Only `energy_hartree`, `dipole_au` and `restart` are always filled; the orbital, charge,
    bond-order and quadrupole arrays are read from the engine only when `singlepoint` is asked
    for them (`full_output=True`), which saves time on the many auxiliary SCFs.

    Attributes:
        energy_hartree: Total energy (Eh).
        orbital_energies_hartree: Orbital energies, shape (n_orbitals,).
        occupations: Orbital occupations summed over spin, shape (n_orbitals,).
        charges_e: Mulliken atomic partial charges, shape (n_atoms,).
        bond_orders: Wiberg/Mayer bond orders, shape (n_atoms, n_atoms).
        dipole_au: Dipole moment vector in e·Bohr, shape (3,).
        quadrupole_au: Traceless quadrupole (xx, xy, yy, xz, yz, zz) in e·Bohr², shape (6,),
            or None where the engine does not provide it.
        restart: The engine's own result object, usable as the `guess` of a related SCF
            (same atoms and charge).
    """

    energy_hartree: float
    dipole_au: np.ndarray
    orbital_energies_hartree: np.ndarray | None = None
    occupations: np.ndarray | None = None
    charges_e: np.ndarray | None = None
    bond_orders: np.ndarray | None = None
    quadrupole_au: np.ndarray | None = None
    restart: Any = field(default=None, repr=False, compare=False)


class QMBackend(Protocol):
    """A GFN2-xTB engine."""

    name: str

    def singlepoint(
        self,
        numbers: np.ndarray,
        positions_bohr: np.ndarray,
        *,
        charge: int = 0,
        uhf: int = 0,
        solvent: str | None = None,
        field_au: np.ndarray | None = None,
        electronic_temperature_k: float = 300.0,
        max_iterations: int = 250,
        guess: SCFResult | None = None,
        full_output: bool = True,
    ) -> SCFResult:
        """One SCF. `field_au` is a uniform electric field in Eh/(e·Bohr); `solvent` an ALPB name;
        `guess` a converged result of the same atoms and charge to start from (fewer iterations)."""
        ...

    def optimize(
        self,
        numbers: np.ndarray,
        positions_bohr: np.ndarray,
        *,
        charge: int = 0,
        fmax_ev_per_angstrom: float = 0.05,
        max_steps: int = 200,
        fixed_atoms: tuple[int, ...] = (),
    ) -> tuple[np.ndarray, bool]:
        """Relax a geometry (atoms in `fixed_atoms` held in place).

        Returns:
            Positions in Bohr, shape (n_atoms, 3), and whether the force criterion was met.
        """
        ...


def _ase_optimize(atoms, fmax_ev_per_angstrom: float, max_steps: int) -> tuple[np.ndarray, bool]:
    from ase.calculators.calculator import CalculationFailed
    from ase.optimize import LBFGS

    opt = LBFGS(atoms, logfile=None)
    try:
        converged = bool(opt.run(fmax=fmax_ev_per_angstrom, steps=max_steps))
    except CalculationFailed as exc:  # ASE wraps the engine's SCF failure
        raise SCFError(f"during geometry optimisation: {str(exc).strip()}") from None
    return atoms.get_positions() * BOHR_PER_ANGSTROM, converged


def _ase_atoms(numbers: np.ndarray, positions_bohr: np.ndarray, fixed_atoms: tuple[int, ...]):
    from ase import Atoms
    from ase.constraints import FixAtoms

    atoms = Atoms(numbers=numbers, positions=np.asarray(positions_bohr) / BOHR_PER_ANGSTROM)
    if fixed_atoms:
        atoms.set_constraint(FixAtoms(indices=list(fixed_atoms)))
    return atoms


class TBLiteBackend:
    """GFN2-xTB through `tblite` (ALPB solvation, uniform electric field, quadrupoles)."""

    name = "tblite"

    def singlepoint(
        self,
        numbers: np.ndarray,
        positions_bohr: np.ndarray,
        *,
        charge: int = 0,
        uhf: int = 0,
        solvent: str | None = None,
        field_au: np.ndarray | None = None,
        electronic_temperature_k: float = 300.0,
        max_iterations: int = 250,
        guess: SCFResult | None = None,
        full_output: bool = True,
    ) -> SCFResult:
        from tblite import library
        from tblite.exceptions import TBLiteRuntimeError, TBLiteValueError
        from tblite.interface import Calculator

        try:
            calc = Calculator("GFN2-xTB", np.asarray(numbers), np.asarray(positions_bohr, float), charge=float(charge), uhf=int(uhf))
            calc.set("verbosity", 0)
            calc.set("max-iter", int(max_iterations))
            calc.set("temperature", electronic_temperature_k * KELVIN_TO_HARTREE)
            if field_au is not None:
                # tblite's binding needs a cffi buffer here, not a numpy array
                vector = np.ascontiguousarray(field_au, dtype=float)
                calc.add("electric-field", library.ffi.from_buffer("double[]", vector))
            if solvent is not None:
                calc.add("alpb-solvation", solvent)
            res = calc.singlepoint(guess.restart, copy=True) if guess is not None and guess.restart is not None else calc.singlepoint()
            energy, dipole = float(res.get("energy")), np.asarray(res.get("dipole"), float)
            if not full_output:
                return SCFResult(energy_hartree=energy, dipole_au=dipole, restart=res)
            orbital_energies = np.asarray(res.get("orbital-energies"), float)
            return SCFResult(
                energy_hartree=energy,
                dipole_au=dipole,
                orbital_energies_hartree=orbital_energies,
                # summed over spin channels
                occupations=np.asarray(res.get("orbital-occupations"), float).reshape(-1, orbital_energies.size).sum(axis=0),
                charges_e=np.asarray(res.get("charges"), float),
                bond_orders=np.asarray(res.get("bond-orders"), float).reshape(len(numbers), len(numbers), -1).sum(axis=2),
                quadrupole_au=np.asarray(res.get("quadrupole"), float),
                restart=res,
            )
        except (TBLiteRuntimeError, TBLiteValueError) as exc:
            raise SCFError(f"tblite: {str(exc).strip()}") from None

    def optimize(
        self,
        numbers: np.ndarray,
        positions_bohr: np.ndarray,
        *,
        charge: int = 0,
        fmax_ev_per_angstrom: float = 0.05,
        max_steps: int = 200,
        fixed_atoms: tuple[int, ...] = (),
    ) -> tuple[np.ndarray, bool]:
        from tblite.ase import TBLite
        from tblite.exceptions import TBLiteRuntimeError

        atoms = _ase_atoms(numbers, positions_bohr, fixed_atoms)
        atoms.calc = TBLite(method="GFN2-xTB", charge=charge, verbosity=0)
        try:
            return _ase_optimize(atoms, fmax_ev_per_angstrom, max_steps)
        except TBLiteRuntimeError as exc:
            raise SCFError(f"tblite: {str(exc).strip()}") from None


class XTBBackend:
    """GFN2-xTB through xtb-python (optional extra `discovery[xtb]`).

    xtb-python 22.1 offers GBSA solvation (no 1-octanol parameters) and no uniform field, so:
    water solvation uses GBSA; 1-octanol solvation is delegated to tblite's ALPB; the field is
    made by two distant point charges (±Q at ±2000 Bohr, uniform to 1e-5 over a molecule),
    which couples to atomic charges only, so polarisabilities differ slightly from tblite's.
    """

    name = "xtb"
    _field_distance_bohr = 2000.0

    def __init__(self) -> None:
        try:
            import xtb.interface  # noqa: F401
        except ImportError as exc:
            raise ImportError("the xtb backend needs xtb-python: pip install 'discovery[xtb]'") from exc
        self._tblite = TBLiteBackend()

    def singlepoint(
        self,
        numbers: np.ndarray,
        positions_bohr: np.ndarray,
        *,
        charge: int = 0,
        uhf: int = 0,
        solvent: str | None = None,
        field_au: np.ndarray | None = None,
        electronic_temperature_k: float = 300.0,
        max_iterations: int = 250,
        guess: SCFResult | None = None,
        full_output: bool = True,
    ) -> SCFResult:
        from xtb.interface import Calculator, Param, XTBException, _ffi, _lib
        from xtb.libxtb import VERBOSITY_MUTED

        if solvent is not None and solvent not in {"water", "h2o"}:
            return self._tblite.singlepoint(
                numbers, positions_bohr, charge=charge, uhf=uhf, solvent=solvent, field_au=field_au,
                electronic_temperature_k=electronic_temperature_k, max_iterations=max_iterations,
                full_output=full_output,
            )  # no guess: the result objects of the two engines are not interchangeable
        try:
            calc = Calculator(Param.GFN2xTB, np.asarray(numbers), np.asarray(positions_bohr, float), charge=float(charge), uhf=int(uhf))
            calc.set_verbosity(VERBOSITY_MUTED)
            calc.set_max_iterations(int(max_iterations))
            calc.set_electronic_temperature(float(electronic_temperature_k))
            if solvent is not None:
                name = _ffi.new("char[]", b"h2o")
                _lib.xtb_setSolvent(calc._env, calc._calc, name, _ffi.NULL, _ffi.NULL, _ffi.NULL)
                if calc.check() != 0:
                    raise XTBException(calc.get_error("could not set GBSA water"))
            if field_au is not None:
                field = np.asarray(field_au, float)
                r = self._field_distance_bohr
                strength = float(np.linalg.norm(field))
                direction = field / strength
                q = strength * r * r / 2.0
                calc.set_external_charges(
                    np.array([1, 1]), np.array([q, -q]), np.stack([-r * direction, r * direction])
                )
            restart = guess.restart if guess is not None and type(guess.restart).__module__.startswith("xtb") else None
            res = calc.singlepoint(restart, copy=True) if restart is not None else calc.singlepoint()
            energy, dipole = float(res.get_energy()), np.asarray(res.get_dipole(), float)
            if not full_output:
                return SCFResult(energy_hartree=energy, dipole_au=dipole, restart=res)
            n = len(numbers)
            return SCFResult(
                energy_hartree=energy,
                dipole_au=dipole,
                orbital_energies_hartree=np.asarray(res.get_orbital_eigenvalues(), float),
                occupations=np.asarray(res.get_orbital_occupations(), float),
                charges_e=np.asarray(res.get_charges(), float),
                bond_orders=np.asarray(res.get_bond_orders(), float).reshape(n, n),
                restart=res,
            )
        except XTBException as exc:
            raise SCFError(f"xtb: {str(exc).strip()}") from None

    def optimize(
        self,
        numbers: np.ndarray,
        positions_bohr: np.ndarray,
        *,
        charge: int = 0,
        fmax_ev_per_angstrom: float = 0.05,
        max_steps: int = 200,
        fixed_atoms: tuple[int, ...] = (),
    ) -> tuple[np.ndarray, bool]:
        from xtb.ase.calculator import XTB
        from xtb.interface import XTBException

        atoms = _ase_atoms(numbers, positions_bohr, fixed_atoms)
        # xtb's ASE calculator takes the total charge from the atoms' initial charges
        atoms.set_initial_charges([charge] + [0] * (len(numbers) - 1))
        atoms.calc = XTB(method="GFN2-xTB")
        try:
            return _ase_optimize(atoms, fmax_ev_per_angstrom, max_steps)
        except XTBException as exc:
            raise SCFError(f"xtb: {str(exc).strip()}") from None


BACKENDS = {Backend.TBLITE: TBLiteBackend, Backend.XTB: XTBBackend}


def get_backend(name: str) -> QMBackend:
    """Instantiate a backend by name ("tblite" or "xtb")."""
    try:
        cls = BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown QM backend {name!r}; choose one of {sorted(BACKENDS)}") from None
    return cls()
