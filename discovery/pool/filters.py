"""Candidate filters: composition, synthetic accessibility and structural alerts, each with a reason.

Reasons (the keys of the pool summary's rejection counts):

* ``element not allowed: X`` (the first offending element in alphabetical order),
* ``heavy atoms out of range`` (repeat units: atoms besides the two `[*]`),
* ``charged``: a net charge, or a charged atom without an oppositely charged neighbour
  (charge-separated neutral groups such as nitro, N-oxide or azide pass),
* ``SA score > 4.5``: Ertl & Schuffenhauer's synthetic accessibility score (1 easy .. 10 hard),
* ``alert: <catalogue>``: a substructure from one of the alert catalogues.

Polymer repeat units are scored as the methyl-capped unit (the `[*]` replaced by CH3, as in
the oligomers used for quantum chemistry) and screened for alerts as the methyl-capped dimer,
so a group formed across the junction of two units (`[*]O...O[*]` -> peroxide) is caught.
"""

from __future__ import annotations

from rdkit import Chem
from rdkit.Chem import FilterCatalog
from rdkit.Contrib.SA_Score import sascorer

from discovery.chem import Molecule, build_oligomer
from discovery.pool.settings import FilterSettings

#: Reactive or hydrolytically unstable groups that make a polymer (or molecule) implausible
#: as a stable material; the "UNSTABLE" alert catalogue. RDKit's Brenk set covers most of them
#: but also flags long alkyl chains, isolated alkenes and acetals, which are ordinary in polymers.
UNSTABLE_ALERTS: dict[str, str] = {
    "heteroatom-heteroatom single bond": "[#7,#8,#16;+0;!$([#16](=O)=O)]-;!@[#7,#8;+0]",
    "halogen on heteroatom": "[#7,#8,#16]-[F,Cl,Br,I]",
    "acyl halide": "[CX3](=O)[F,Cl,Br,I]",
    "hemiacetal, hemiaminal or gem-diol": "[CX4]([OX2H1])[#7,#8]",
    "aminal with N-H": "[CX4]([NX3;H1,H2;!$(N-[C,S]=O)])[#7,#8]",
    "alpha-halo ether or amine": "[CX4]([Cl,Br,I])[#7,#8]",
    "alpha-fluoro amine": "[CX4](F)[NX3;!a;!$(N-[C,S]=O)]",
    "alpha-halo carbonyl": "[CX4]([Cl,Br,I])[CX3]=O",
    "1,2-dicarbonyl (diketone, ketoamide)": "[#6][CX3](=O)[CX3]=O",
    "anhydride": "[CX3](=O)[OX2][CX3]=O",
    "thiol": "[SX2H1]",
    "sulfur ylide": "[#16;X3,X4]=[#6]",
    "enol": "[OX2H1]-[#6;!a]=[#6,#7]",
    "enamine with N-H": "[NX3;H1,H2;!$(N-C=O)]-[#6;!a]=[#6;!a]",
    "carbonic or carbamic acid": "[OX2H1]C(=O)[#7,#8]",
    "cumulated double bonds": "[CX2](=*)=*",
    "nitroso": "[#6]-[NX2]=O",
    "three-membered heterocycle": "[#7,#8,#16;r3]",
    "triple bond in a ring": "*#;@*",
}

_RDKIT_CATALOGUES = dict(FilterCatalog.FilterCatalogParams.FilterCatalogs.names)


def _catalogue(name: str) -> FilterCatalog.FilterCatalog:
    catalogue = FilterCatalog.FilterCatalog()
    if name == "UNSTABLE":
        for label, smarts in UNSTABLE_ALERTS.items():
            matcher = FilterCatalog.SmartsMatcher(label, smarts, 1)
            catalogue.AddEntry(FilterCatalog.FilterCatalogEntry(label, matcher))
    else:
        params = FilterCatalog.FilterCatalogParams()
        params.AddCatalog(_RDKIT_CATALOGUES[name])
        catalogue = FilterCatalog.FilterCatalog(params)
    return catalogue


def _charge_reason(mol: Chem.Mol) -> str | None:
    net = 0
    for atom in mol.GetAtoms():
        charge = atom.GetFormalCharge()
        net += charge
        if charge and not any(n.GetFormalCharge() * charge < 0 for n in atom.GetNeighbors()):
            return "charged"
    return "charged" if net else None


class CandidateFilter:
    """Checks one standardised candidate against the filter settings.

    Args:
        settings: Allowed elements, heavy-atom range, charges, SA cut-off and alert catalogues.
    """

    def __init__(self, settings: FilterSettings) -> None:
        self.settings = settings
        self._allowed = set(settings.allowed_elements)
        self._catalogues = [(name, _catalogue(name)) for name in settings.alerts]

    def composition_reason(self, mol: Chem.Mol) -> str | None:
        """Why `mol` fails the element, size or charge rules, or None when it passes."""
        symbols = {a.GetSymbol() for a in mol.GetAtoms() if a.GetAtomicNum() > 1}
        banned = sorted(symbols - self._allowed)
        if banned:
            return f"element not allowed: {banned[0]}"
        heavy = sum(1 for a in mol.GetAtoms() if a.GetAtomicNum() > 1)
        if not self.settings.min_heavy_atoms <= heavy <= self.settings.max_heavy_atoms:
            return "heavy atoms out of range"
        if not self.settings.allow_charged:
            return _charge_reason(mol)
        return None

    def sa_score(self, molecule: Molecule) -> float:
        """Synthetic accessibility score, 1 (easy) to 10 (hard); repeat units methyl-capped."""
        mol = build_oligomer(molecule, 1, "CH3") if molecule.is_polymer else molecule.mol
        return float(sascorer.calculateScore(mol))

    def sa_reason(self, score: float) -> str | None:
        limit = self.settings.max_sa_score
        return f"SA score > {limit:g}" if limit is not None and score > limit else None

    def alert_reason(self, molecule: Molecule) -> str | None:
        """`alert: <catalogue>` for the first catalogue with a match, or None."""
        if not self._catalogues:
            return None
        mol = build_oligomer(molecule, 2, "CH3") if molecule.is_polymer else molecule.mol
        for name, catalogue in self._catalogues:
            if catalogue.HasMatch(mol):
                return f"alert: {name}"
        return None
