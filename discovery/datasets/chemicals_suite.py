"""Public benchmark suite: 12 *experimental* molecular properties built offline from `chemicals`.

Every table is assembled at run time from data files shipped inside the `chemicals` package
(optional dependency, ``pip install discovery[benchmarks]``); nothing is downloaded. CAS numbers
are mapped to SMILES with the offline PubChem subset in :mod:`chemicals.identifiers`
(``get_pubchem_db().search_CAS``), then standardised with :func:`discovery.chem.parse_molecule`.

Sources (only measured / critically evaluated experimental tables are used)
--------------------------------------------------------------------------

==========================  ==========  =====================================================  =====================================================
property                    unit        source table(s) in `chemicals`                         why it is experimental
==========================  ==========  =====================================================  =====================================================
relative_permittivity       (-)         ``permittivity.permittivity_data_CRC``                 CRC Handbook (95th ed.) "Permittivity (Dielectric
                                        (Electrolytes/Permittivity (Dielectric Constant) of     Constant) of Liquids": measured eps_r. Value at
                                        Liquids.tsv)                                           298.15 K from the CRC fit of the measurements when
                                                                                               298.15 K is inside its [Tmin, Tmax], otherwise the
                                                                                               tabulated measurement if taken at 293.15-303.15 K.
boiling_point_k             K           ``miscdata.CRC_organic_data`` column ``Tb``            CRC Handbook "Physical Constants of Organic
                                        (Misc/Physical Constants of Organic Compounds.csv)     Compounds", normal boiling points (measured).
melting_point_k             K           ``miscdata.CRC_organic_data`` column ``Tm``            same CRC table, measured melting points.
critical_temperature_k      K           ``critical.critical_data_IUPAC``, ``_CRC``,            IUPAC "Vapor-liquid critical properties of elements
                                        ``_Matthews``, ``miscdata.heos_data``                  and compounds" series (critically evaluated
critical_pressure_bar       bar         (same four tables, column ``Pc`` in Pa / 1e5)          measurements), CRC/TRC critical constants, Mathews
critical_volume_cm3_mol     cm3/mol     (same four tables, column ``Vc`` in m3/mol * 1e6)      1972 review, and the critical points of the
                                                                                               reference equations of state (CoolProp/REFPROP)
                                                                                               that chemicals labels EXPERIMENTAL_REVIEW.
hvap_298_kj_mol             kJ/mol      ``phase_change.Hvap_data_CRC`` column ``Hvap298``      CRC Handbook "Enthalpy of Vaporization" table
                                        (Phase Change/CRC Handbook Heat of Vaporization.tsv)   (calorimetric / vapour-pressure derived, Majer &
                                                                                               Svoboda), J/mol / 1000.
flash_point_k               K           ``safety.IEC_2010_data``, ``safety.NFPA_2008_data``    IEC 60079-20-1 (2010) and NFPA 497 (2008): the
                                        (Safety/IS IEC 60079-20-1 2010.tsv, NFPA 497 2008.tsv)  standards' tables of measured flash points.
refractive_index            (-)         ``refractivity.RI_data_CRC_organic``                   CRC Handbook organic refractive indices n_D; only
                                        (Misc/CRC Handbook Organic RI.csv)                     rows measured at 288.15-298.15 K (column ``RIT``).
dipole_debye                debye       ``dipole.dipole_data_CCDB``, ``dipole_data_Poling``,   NIST CCCBDB experimental dipoles, Poling/Prausnitz
                                        ``dipole_data_Muller``                                 "Properties of Gases and Liquids" App. A, and the
                                                                                               experimental training set in the Muller 2012 SI.
logp                        (-)         ``environment.logP_data_CRC``                          CRC Handbook "Octanol-water partition
                                        (Environment/CRC logP table.tsv)                       coefficients" (measured log Kow).
hfus_kj_mol                 kJ/mol      ``phase_change.Hfus_data_CRC``                         CRC Handbook "Enthalpy of fusion" (calorimetric),
                                        (Phase Change/CRC Handbook Heat of Fusion.tsv)         J/mol / 1000. Chosen as the 12th property.
==========================  ==========  =====================================================  =====================================================

Deliberately **not** used (predicted, estimated or of unknown provenance):

* ``miscdata.joback_predictions`` (Joback group contribution); ``critical_data_WilsonJasperson``,
  ``critical_data_Fedors``, ``critical_data_omega_Psat_Tc`` (estimation methods).
* ``critical_data_Yaws``, ``critical_data_PSRKR4``, ``critical_data_PinaMartines``: chemicals itself
  tags them PROCESSED_EXPERIMENTAL_PREDICTED (experimental and estimated values mixed);
  ``critical_data_PassutDanner`` (1973 secondary compilation, superseded by the IUPAC series).
* ``phase_change.Tb_data_Yaws`` (Yaws, mixed); ``phase_change.Hvap_data_Gharagheizi`` (training table
  of a group-contribution model, DIPPR values that may themselves be predicted).
* ``safety.DIPPR_SERAT_data``: documented as evaluated experimental DIPPR flash points, but 491 of 870
  values carry 6 decimals that are neither round K, degC nor degF, and they sit on average 7 K below
  IEC 60079-20-1 for the same compounds (formic acid 270 K vs 315 K): not trustworthy as measured.
* ``environment.logP_data_Syrres`` (PhysProp-style table, measured and KOWWIN-estimated logP mixed);
  ``dipole_data_psi4_2022a`` (MP2/6-31G** computed).
* WIKIDATA / COMMON_CHEMISTRY / WEBBOOK aggregates (crowd-sourced or processed; the webbook Tb disagrees
  with the CRC by > 15 K for 3 % of their overlap, some being reduced-pressure boiling points).
* Triple-point temperature (Staveley 1981) has only 189 rows, so the 12th property is the enthalpy of
  fusion.

Filters and de-duplication
--------------------------
* CAS numbers without a PubChem entry in the offline database are dropped.
* Multi-component PubChem records (salts, hydrates, mixtures: a ``.`` in the SMILES) are dropped
  rather than reduced to their largest fragment: the measured value belongs to the salt.
* Kept molecules have >= 1 carbon, only the elements H B C N O F Si P S Cl Br I, no net charge, no
  isotope labels, and at most ``max_heavy_atoms`` heavy atoms.
* Source values outside a generous physical window (``PropertySpec.plausible``) are treated as
  data-entry errors and dropped (e.g. IUPAC phenanthrene Tc = 0.869 K, CRC n_D = 1.9377 for
  4-methyl-3-penten-2-ol).
* Rows are grouped by InChIKey (different CAS numbers and different source tables can give the same
  structure). Replicates that agree within the property tolerance (``max(abs_tol, rel_tol*|median|)``
  on max - min) are averaged; otherwise the median is kept and the group counted as a conflict
  (``DataFrame.attrs["n_conflicts"]``).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from discovery.chem import MoleculeError, parse_molecule

__all__ = [
    "ALLOWED_ELEMENTS",
    "PROPERTIES",
    "PropertySpec",
    "build_suite",
    "diverse_molecules",
    "load_property",
    "permittivity_298",
    "raw_records",
]

ALLOWED_ELEMENTS: frozenset[str] = frozenset(
    {"H", "B", "C", "N", "O", "F", "Si", "P", "S", "Cl", "Br", "I"}
)
COLUMNS: tuple[str, ...] = ("smiles", "inchikey", "cas", "name", "value")

_CAS_RE = re.compile(r"\d{2,7}-\d{2}-\d")

T_REF_PERMITTIVITY = 298.15  # K
T_WINDOW_PERMITTIVITY = (293.15 - 0.1, 303.15 + 0.1)  # K, tabulated measurement accepted as-is
T_WINDOW_RI = (288.15 - 0.01, 298.15 + 0.01)  # K, i.e. 20 +- 5 degC


@dataclass(frozen=True)
class PropertySpec:
    """One benchmark property.

    Attributes:
        name: Column/file name, with the unit in it where it has one.
        unit: Unit of ``value``.
        description: What was measured, and at which conditions.
        sources: `chemicals` tables used (attribute path, file, column).
        why_experimental: Why these tables are measurements, not predictions.
        direction: Default optimisation direction for discovery campaigns ("maximize"/"minimize").
        abs_tol: Absolute tolerance for replicate agreement.
        rel_tol: Relative tolerance for replicate agreement.
        plausible: Physical sanity window; source values outside it are data-entry errors (e.g. the
            IUPAC table lists phenanthrene Tc = 0.869 K) and are dropped before merging.
    """

    name: str
    unit: str
    description: str
    sources: tuple[str, ...]
    why_experimental: str
    direction: Literal["maximize", "minimize"]
    abs_tol: float
    rel_tol: float = 0.0
    plausible: tuple[float, float] = (-math.inf, math.inf)

    def tolerance(self, centre: float) -> float:
        return max(self.abs_tol, self.rel_tol * abs(centre))


_CRIT_SOURCES = (
    "chemicals.critical.critical_data_IUPAC (Critical Properties/IUPACOrganicCriticalProps.tsv)",
    "chemicals.critical.critical_data_CRC (Critical Properties/CRCCriticalOrganics.tsv)",
    "chemicals.critical.critical_data_Matthews (Critical Properties/Mathews1972InorganicCriticalProps.tsv)",
    "chemicals.miscdata.heos_data (Misc/heos_constants.tsv)",
)
_CRIT_WHY = (
    "IUPAC series of critically evaluated measurements (Ambrose, Tsonopoulos et al. 1995-2015), "
    "CRC/TRC critical constants of organics, Mathews 1972 review, and critical points of reference "
    "equations of state; chemicals tags them EXPERIMENTAL_REVIEW/COMPILATION or PROCESSED_EXPERIMENTAL."
)

PROPERTIES: dict[str, PropertySpec] = {
    spec.name: spec
    for spec in (
        PropertySpec(
            name="relative_permittivity",
            unit="-",
            description="Static relative permittivity (dielectric constant) of the liquid at 298.15 K "
            "(CRC fit inside its measured range, else the measurement at 293.15-303.15 K).",
            sources=(
                "chemicals.permittivity.permittivity_data_CRC "
                "(Electrolytes/Permittivity (Dielectric Constant) of Liquids.tsv)",
            ),
            why_experimental="CRC Handbook table of measured permittivities of liquids with the "
            "Handbook's own polynomial fits to those measurements.",
            direction="maximize",
            abs_tol=0.1,
            rel_tol=0.05,
            plausible=(1.0, 250.0),
        ),
        PropertySpec(
            name="boiling_point_k",
            unit="K",
            description="Normal boiling point at 101.325 kPa.",
            sources=(
                "chemicals.miscdata.CRC_organic_data[Tb] (Misc/Physical Constants of Organic Compounds.csv)",
            ),
            why_experimental="CRC Handbook 'Physical Constants of Organic Compounds' (measured).",
            direction="maximize",
            abs_tol=3.0,
            plausible=(50.0, 1200.0),
        ),
        PropertySpec(
            name="melting_point_k",
            unit="K",
            description="Melting point at atmospheric pressure.",
            sources=(
                "chemicals.miscdata.CRC_organic_data[Tm] (Misc/Physical Constants of Organic Compounds.csv)",
            ),
            why_experimental="CRC Handbook 'Physical Constants of Organic Compounds' (measured).",
            direction="minimize",
            abs_tol=3.0,
            plausible=(50.0, 1200.0),
        ),
        PropertySpec(
            name="critical_temperature_k",
            unit="K",
            description="Vapour-liquid critical temperature.",
            sources=tuple(s.replace(" (", "[Tc] (", 1) for s in _CRIT_SOURCES),
            why_experimental=_CRIT_WHY,
            direction="maximize",
            abs_tol=3.0,
            rel_tol=0.005,
            plausible=(100.0, 1500.0),
        ),
        PropertySpec(
            name="critical_pressure_bar",
            unit="bar",
            description="Vapour-liquid critical pressure (source Pa / 1e5).",
            sources=tuple(s.replace(" (", "[Pc] (", 1) for s in _CRIT_SOURCES),
            why_experimental=_CRIT_WHY,
            direction="maximize",
            abs_tol=0.5,
            rel_tol=0.03,
            plausible=(1.0, 300.0),
        ),
        PropertySpec(
            name="critical_volume_cm3_mol",
            unit="cm3/mol",
            description="Vapour-liquid critical molar volume (source m3/mol * 1e6).",
            sources=tuple(s.replace(" (", "[Vc] (", 1) for s in _CRIT_SOURCES),
            why_experimental=_CRIT_WHY,
            direction="maximize",
            abs_tol=2.0,
            rel_tol=0.05,
            plausible=(20.0, 5000.0),
        ),
        PropertySpec(
            name="hvap_298_kj_mol",
            unit="kJ/mol",
            description="Enthalpy of vaporisation at 298.15 K (source J/mol / 1000).",
            sources=(
                "chemicals.phase_change.Hvap_data_CRC[Hvap298] (Phase Change/CRC Handbook Heat of Vaporization.tsv)",
            ),
            why_experimental="CRC Handbook 'Enthalpy of Vaporization' (calorimetric or from measured "
            "vapour pressures; Majer & Svoboda compilation).",
            direction="maximize",
            abs_tol=0.5,
            rel_tol=0.03,
            plausible=(1.0, 300.0),
        ),
        PropertySpec(
            name="flash_point_k",
            unit="K",
            description="Flash point (closed cup where the standards give it).",
            sources=(
                "chemicals.safety.IEC_2010_data[T_flash] (Safety/IS IEC 60079-20-1 2010.tsv)",
                "chemicals.safety.NFPA_2008_data[T_flash] (Safety/NFPA 497 2008.tsv)",
            ),
            why_experimental="IEC 60079-20-1 and NFPA 497: standards' tables of measured flash points. "
            "(DIPPR values from Serat 2017 are excluded: most carry 6-decimal, non-measured-looking values "
            "and sit 4-7 K below the standards on average.)",
            direction="maximize",
            abs_tol=5.0,
            plausible=(150.0, 800.0),
        ),
        PropertySpec(
            name="refractive_index",
            unit="-",
            description="Refractive index n_D (sodium D line) of the pure compound measured at "
            "288.15-298.15 K (20 +- 5 degC).",
            sources=("chemicals.refractivity.RI_data_CRC_organic (Misc/CRC Handbook Organic RI.csv)",),
            why_experimental="CRC Handbook organic compounds table, measured n_D with its temperature.",
            direction="maximize",
            abs_tol=0.003,
            plausible=(1.2, 1.9),
        ),
        PropertySpec(
            name="dipole_debye",
            unit="debye",
            description="Permanent electric dipole moment (mostly gas-phase measurements).",
            sources=(
                "chemicals.dipole.dipole_data_CCDB (Misc/cccbdb.nist.gov Dipoles.csv)",
                "chemicals.dipole.dipole_data_Poling (Misc/Poling Dipole.csv)",
                "chemicals.dipole.dipole_data_Muller (Misc/Muller Supporting Info Dipoles.csv)",
            ),
            why_experimental="NIST CCCBDB 'experimental dipoles' list, Poling et al. Appendix A "
            "(measured), and the experimental values Muller et al. 2012 fitted their model to.",
            direction="maximize",
            abs_tol=0.15,
            rel_tol=0.05,
            plausible=(0.0, 15.0),
        ),
        PropertySpec(
            name="logp",
            unit="log10(-)",
            description="Octanol-water partition coefficient log10 Kow at about 298 K.",
            sources=("chemicals.environment.logP_data_CRC (Environment/CRC logP table.tsv)",),
            why_experimental="CRC Handbook 'Octanol-Water Partition Coefficients' (measured).",
            direction="minimize",
            abs_tol=0.2,
            plausible=(-10.0, 15.0),
        ),
        PropertySpec(
            name="hfus_kj_mol",
            unit="kJ/mol",
            description="Enthalpy of fusion at the melting point (source J/mol / 1000).",
            sources=(
                "chemicals.phase_change.Hfus_data_CRC[Hfus] (Phase Change/CRC Handbook Heat of Fusion.tsv)",
            ),
            why_experimental="CRC Handbook 'Enthalpy of Fusion' (calorimetric measurements).",
            direction="maximize",
            abs_tol=0.5,
            rel_tol=0.1,
            plausible=(0.1, 300.0),
        ),
    )
}


# --------------------------------------------------------------------------------------------
# Raw extraction from `chemicals` (CAS, value, source label, source name)
# --------------------------------------------------------------------------------------------


def _chemicals():
    try:
        import chemicals  # noqa: F401
    except ImportError as exc:  # pragma: no cover - optional dependency
        raise ImportError(
            "the chemicals benchmark suite needs the optional `chemicals` package "
            "(pip install 'discovery[benchmarks]')"
        ) from exc
    import chemicals.critical
    import chemicals.dipole
    import chemicals.environment
    import chemicals.miscdata
    import chemicals.permittivity
    import chemicals.phase_change
    import chemicals.refractivity
    import chemicals.safety

    return chemicals


def _cas_str(index: pd.Index) -> list[str]:
    from chemicals.identifiers import int_to_CAS

    return [c if isinstance(c, str) else int_to_CAS(int(c)) for c in index]


def _column(df: pd.DataFrame, column: str, label: str, scale: float = 1.0, name_col: str | None = None) -> pd.DataFrame:
    values = pd.to_numeric(df[column], errors="coerce").astype(float) * scale
    if name_col is None:
        name_col = next((c for c in ("Chemical", "Name", "name", "Names") if c in df.columns), None)
    names = df[name_col].astype(str).str.strip() if name_col is not None else pd.Series("", index=df.index)
    out = pd.DataFrame(
        {"cas": _cas_str(df.index), "value": values.to_numpy(), "source": label, "source_name": names.to_numpy()}
    )
    return out[np.isfinite(out["value"])]


def permittivity_298(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Relative permittivity at 298.15 K from the CRC table, all compounds (also inorganic).

    The CRC Handbook gives, per liquid, one measurement ``Permittivity`` at ``T`` and a polynomial
    ``A + B T + C T^2 + D T^3`` fitted to the measurements over ``[Tmin, Tmax]``. We evaluate the fit
    at 298.15 K when 298.15 K lies inside ``[Tmin, Tmax]`` (interpolation of measured data); otherwise
    we take the single measurement if it was made at 293.15-303.15 K; else the compound is dropped.

    Returns:
        DataFrame with columns ``cas, value, source, source_name, method`` (method "fit" or "tabulated").
    """
    if table is None:
        table = _chemicals().permittivity.permittivity_data_CRC
    t = table
    coeffs = [pd.to_numeric(t[c], errors="coerce") for c in ("A", "B", "C", "D")]
    tmin = pd.to_numeric(t["Tmin"], errors="coerce")
    tmax = pd.to_numeric(t["Tmax"], errors="coerce")
    in_range = coeffs[0].notna() & (tmin <= T_REF_PERMITTIVITY) & (tmax >= T_REF_PERMITTIVITY)
    T = T_REF_PERMITTIVITY
    fit = coeffs[0] + T * (coeffs[1].fillna(0.0) + T * (coeffs[2].fillna(0.0) + T * coeffs[3].fillna(0.0)))
    t_meas = pd.to_numeric(t["T"], errors="coerce")
    near = t_meas.between(*T_WINDOW_PERMITTIVITY)
    tabulated = pd.to_numeric(t["Permittivity"], errors="coerce")
    value = np.where(in_range, fit, np.where(near, tabulated, np.nan))
    out = pd.DataFrame(
        {
            "cas": _cas_str(t.index),
            "value": value.astype(float),
            "source": "CRC permittivity",
            "source_name": t["Chemical"].astype(str).str.strip().to_numpy(),
            "method": np.where(in_range, "fit", "tabulated"),
        }
    )
    return out[np.isfinite(out["value"])].reset_index(drop=True)


def _refractive_index(chem) -> pd.DataFrame:
    t = chem.refractivity.RI_data_CRC_organic
    rit = pd.to_numeric(t["RIT"], errors="coerce")
    t = t[rit.between(*T_WINDOW_RI)]
    return _column(t, "RI", "CRC organic RI")


def _critical(column: str, scale: float) -> Callable[[object], pd.DataFrame]:
    def extract(chem) -> pd.DataFrame:
        cr, md = chem.critical, chem.miscdata
        return pd.concat(
            [
                _column(cr.critical_data_IUPAC, column, "IUPAC", scale),
                _column(cr.critical_data_CRC, column, "CRC", scale),
                _column(cr.critical_data_Matthews, column, "MATTHEWS", scale),
                _column(md.heos_data, column, "HEOS", scale),
            ],
            ignore_index=True,
        )

    return extract


_EXTRACTORS: dict[str, Callable[[object], pd.DataFrame]] = {
    "relative_permittivity": lambda chem: permittivity_298(chem.permittivity.permittivity_data_CRC).drop(
        columns="method"
    ),
    "boiling_point_k": lambda chem: _column(chem.miscdata.CRC_organic_data, "Tb", "CRC_ORG"),
    "melting_point_k": lambda chem: _column(chem.miscdata.CRC_organic_data, "Tm", "CRC_ORG"),
    "critical_temperature_k": _critical("Tc", 1.0),
    "critical_pressure_bar": _critical("Pc", 1e-5),
    "critical_volume_cm3_mol": _critical("Vc", 1e6),
    "hvap_298_kj_mol": lambda chem: _column(chem.phase_change.Hvap_data_CRC, "Hvap298", "CRC", 1e-3),
    "flash_point_k": lambda chem: pd.concat(
        [
            _column(chem.safety.IEC_2010_data, "T_flash", "IEC 60079-20-1"),
            _column(chem.safety.NFPA_2008_data, "T_flash", "NFPA 497"),
        ],
        ignore_index=True,
    ),
    "refractive_index": _refractive_index,
    "dipole_debye": lambda chem: pd.concat(
        [
            _column(chem.dipole.dipole_data_CCDB, "dipole_moment", "CCCBDB"),
            _column(chem.dipole.dipole_data_Poling, "dipole_moment", "POLING"),
            _column(chem.dipole.dipole_data_Muller, "dipole_moment", "MULLER"),
        ],
        ignore_index=True,
    ),
    "logp": lambda chem: _column(chem.environment.logP_data_CRC, "logP", "CRC logP"),
    "hfus_kj_mol": lambda chem: _column(chem.phase_change.Hfus_data_CRC, "Hfus", "CRC", 1e-3),
}
assert set(_EXTRACTORS) == set(PROPERTIES)


def raw_records(name: str) -> pd.DataFrame:
    """The unfiltered rows of the source tables for one property: ``cas, value, source, source_name``."""
    _check_name(name)
    return _EXTRACTORS[name](_chemicals()).reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# CAS -> standardised structure
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Structure:
    smiles: str | None
    inchikey: str | None
    name: str
    heavy_atoms: int
    reject: str | None  # reason, or None when usable


@lru_cache(maxsize=1)
def _pubchem_db():
    from chemicals.identifiers import get_pubchem_db

    db = get_pubchem_db()
    db.finish_loading()  # load the large offline PubChem subset once, up front
    return db


@lru_cache(maxsize=None)
def _standardise_smiles(smiles: str) -> _Structure:
    if "." in smiles:
        return _Structure(None, None, "", 0, "multi-component (salt/mixture/hydrate)")
    try:
        mol = parse_molecule(smiles)
    except MoleculeError as exc:
        return _Structure(None, None, "", 0, f"parse: {exc.reason}")
    rd = mol.mol
    symbols = set()
    charge = 0
    for atom in rd.GetAtoms():
        symbols.add(atom.GetSymbol())
        charge += atom.GetFormalCharge()
        if atom.GetIsotope():
            return _Structure(None, None, "", 0, "isotope-labelled")
    if "C" not in symbols:
        return _Structure(None, None, "", 0, "no carbon")
    if not symbols <= ALLOWED_ELEMENTS:
        return _Structure(None, None, "", 0, "element outside H B C N O F Si P S Cl Br I")
    if charge != 0:
        return _Structure(None, None, "", 0, "net charge")
    return _Structure(mol.smiles, mol.identity, "", rd.GetNumHeavyAtoms(), None)


@lru_cache(maxsize=None)
def _structure_for_cas(cas: str) -> _Structure:
    try:
        record = _pubchem_db().search_CAS(cas)
    except (ValueError, TypeError):  # malformed CAS text in a source table
        record = None
    if not record or not record.smiles:
        return _Structure(None, None, "", 0, "no SMILES for CAS in offline PubChem subset")
    s = _standardise_smiles(record.smiles)
    name = record.common_name or record.iupac_name or ""
    return _Structure(s.smiles, s.inchikey, name, s.heavy_atoms, s.reject)


# --------------------------------------------------------------------------------------------
# Build, de-duplicate, cache
# --------------------------------------------------------------------------------------------


def _check_name(name: str) -> None:
    if name not in PROPERTIES:
        raise KeyError(f"unknown property {name!r}; choose from {sorted(PROPERTIES)}")


@lru_cache(maxsize=None)
def _standardised(name: str) -> pd.DataFrame:
    """All usable molecules for a property (no heavy-atom cap), one row per InChIKey."""
    spec = PROPERTIES[name]
    raw = raw_records(name)
    rejects: Counter[str] = Counter()
    rows = []
    for cas, value, source, source_name in raw[["cas", "value", "source", "source_name"]].itertuples(
        index=False, name=None
    ):
        lo, hi = spec.plausible
        if not lo <= value <= hi:
            rejects[f"implausible value outside [{lo:g}, {hi:g}] {spec.unit}"] += 1
            continue
        s = _structure_for_cas(cas)
        if s.reject is not None:
            rejects[s.reject] += 1
            continue
        chem_name = s.name if s.name and not _CAS_RE.fullmatch(s.name) else source_name
        rows.append((s.inchikey, s.smiles, cas, chem_name, float(value), source, s.heavy_atoms))
    rows.sort(key=lambda r: (r[0], _cas_sort_key(r[2]), r[5]))

    out = []
    n_merged = 0
    conflicts: list[tuple[str, str, str]] = []
    for key, group_iter in groupby(rows, key=lambda r: r[0]):
        group = list(group_iter)
        values = np.array([r[4] for r in group])
        cas_list = list(dict.fromkeys(r[2] for r in group))  # sorted by CAS number already
        if len(values) == 1:
            value = float(values[0])
        else:
            n_merged += len(values) - 1
            median = float(np.median(values))
            if float(values.max() - values.min()) <= spec.tolerance(median):
                value = float(values.mean())
            else:
                value = median
                detail = "; ".join(f"{r[2]} {r[5]}: {r[4]:g}" for r in group)
                conflicts.append((key, ";".join(cas_list), detail))
        first = group[0]
        out.append((first[1], key, ";".join(cas_list), first[3], value, first[6]))
    table = pd.DataFrame(out, columns=[*COLUMNS, "heavy_atoms"])
    table.attrs.update(
        {
            "property": name,
            "unit": spec.unit,
            "n_source_rows": len(raw),
            "rejected": dict(sorted(rejects.items())),
            "n_merged_replicates": n_merged,
            "n_conflicts": len(conflicts),
            "conflicts": conflicts,
        }
    )
    return table


def _cas_sort_key(cas: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in cas.split("-"))


@lru_cache(maxsize=None)
def _load_cached(name: str, max_heavy_atoms: int) -> pd.DataFrame:
    full = _standardised(name)
    keep = full["heavy_atoms"] <= max_heavy_atoms
    table = full.loc[keep, list(COLUMNS)].reset_index(drop=True)
    kept = set(table["inchikey"])
    table.attrs = {
        **full.attrs,
        "max_heavy_atoms": max_heavy_atoms,
        "n_too_large": int((~keep).sum()),
        "conflicts": [c for c in full.attrs["conflicts"] if c[0] in kept],
    }
    table.attrs["n_conflicts"] = len(table.attrs["conflicts"])
    return table


def load_property(name: str, *, max_heavy_atoms: int = 40) -> pd.DataFrame:
    """One benchmark property as a table.

    Args:
        name: A key of `PROPERTIES`.
        max_heavy_atoms: Drop molecules with more heavy atoms than this.

    Returns:
        DataFrame with columns ``smiles, inchikey, cas, name, value`` sorted by InChIKey, one row per
        InChIKey. ``cas`` joins all CAS numbers merged into the row with ``;``. Build statistics are in
        ``.attrs`` (``n_source_rows``, ``rejected``, ``n_merged_replicates``, ``n_conflicts``, ...).
        The table is built once per process (cached); a copy is returned.
    """
    _check_name(name)
    if max_heavy_atoms < 1:
        raise ValueError("max_heavy_atoms must be >= 1")
    return _load_cached(name, int(max_heavy_atoms)).copy(deep=True)


def build_suite(out_dir: Path | str, *, max_heavy_atoms: int = 40) -> dict[str, Path]:
    """Write ``<name>.csv`` for every property into ``out_dir``; return the paths by property name."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name in PROPERTIES:
        path = out / f"{name}.csv"
        load_property(name, max_heavy_atoms=max_heavy_atoms).to_csv(path, index=False)
        paths[name] = path
    return paths


@lru_cache(maxsize=None)
def _union_pool(max_heavy_atoms: int) -> tuple[tuple[str, str], ...]:
    pool: dict[str, str] = {}
    for name in PROPERTIES:
        table = _load_cached(name, max_heavy_atoms)
        for key, smi in zip(table["inchikey"], table["smiles"], strict=True):
            pool.setdefault(key, smi)
    return tuple(sorted(pool.items()))


@lru_cache(maxsize=None)
def _union_fingerprints(max_heavy_atoms: int) -> tuple:
    from rdkit import Chem
    from rdkit.Chem import rdFingerprintGenerator

    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    return tuple(gen.GetFingerprint(Chem.MolFromSmiles(smi)) for _, smi in _union_pool(max_heavy_atoms))


def diverse_molecules(n: int, seed: int, max_heavy_atoms: int = 20) -> list[str]:
    """``n`` structurally diverse SMILES from the union of all suite properties.

    MaxMin picking (RDKit ``MaxMinPicker.LazyBitVectorPick``, Tanimoto distance) on Morgan
    fingerprints (radius 2, 2048 bits) of the pool of molecules with at most ``max_heavy_atoms``
    heavy atoms, sorted by InChIKey, so the result depends only on ``n``, ``seed`` and the data.
    """
    from rdkit.SimDivFilters.rdSimDivPickers import MaxMinPicker

    if n < 0:
        raise ValueError("n must be >= 0")
    pool = _union_pool(int(max_heavy_atoms))
    if n > len(pool):
        raise ValueError(f"asked for {n} molecules but the pool has only {len(pool)}")
    if n == 0:
        return []
    fps = list(_union_fingerprints(int(max_heavy_atoms)))
    picks = MaxMinPicker().LazyBitVectorPick(fps, len(fps), n, seed=int(seed))
    return [pool[i][1] for i in picks]


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m discovery.datasets.chemicals_suite",
        description="Build the 12-property experimental benchmark suite from `chemicals` (offline).",
    )
    parser.add_argument("out_dir", type=Path, help="directory for <property>.csv files")
    parser.add_argument("--max-heavy-atoms", type=int, default=40)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    paths = build_suite(args.out_dir, max_heavy_atoms=args.max_heavy_atoms)
    elapsed = time.perf_counter() - t0
    header = f"{'property':<26}{'unit':>10}{'n':>7}{'min':>11}{'median':>11}{'max':>11}{'conflicts':>11}"
    print(header)
    print("-" * len(header))
    for name in paths:
        table = load_property(name, max_heavy_atoms=args.max_heavy_atoms)
        v = table["value"]
        print(
            f"{name:<26}{PROPERTIES[name].unit:>10}{len(table):>7}"
            f"{_fmt(v.min()):>11}{_fmt(v.median()):>11}{_fmt(v.max()):>11}{table.attrs['n_conflicts']:>11}"
        )
    print(f"\nwrote {len(paths)} CSV files to {args.out_dir} in {elapsed:.1f} s")
    return 0


def _fmt(x: float) -> str:
    return f"{x:.4g}" if math.isfinite(x) else "nan"


if __name__ == "__main__":
    sys.exit(main())
