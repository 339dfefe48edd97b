import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from rdkit import Chem

from discovery.chem import parse_molecule
from discovery.chem.repeat_unit import chain_key
from discovery.pool import COLUMNS, FilterSettings, PoolSettings, generate_pool
from discovery.pool.mutation import Mutator
from discovery.pool.settings import OPERATORS, MutationSettings

ROOT = Path(__file__).resolve().parents[1]

MOLECULE_SEEDS = [
    "CCO", "CC(=O)Nc1ccc(O)cc1", "c1ccncc1", "COc1ccc(C=O)cc1", "O=C1CCCCC1", "CC(C)Cc1ccc(C(C)C(=O)O)cc1",
    "C=CC(=O)OC", "Clc1ccccc1", "CN1CCCC1c1cccnc1", "NCCCCCCN",
]  # fmt: skip
POLYMER_SEEDS = [
    "[*]CC[*]", "[*]CC([*])C", "[*]CC([*])c1ccccc1", "[*]CC([*])Cl", "[*]CC([*])(F)F", "[*]CC([*])(C)C(=O)OC",
    "[*]OC(=O)c1ccc(cc1)C(=O)OCC[*]", "[*]NCCCCCC([*])=O", "[*]Oc1ccc(cc1)S(=O)(=O)c1ccc([*])cc1",
    "[*]Oc1ccc(cc1)C(C)(C)c1ccc(cc1)OC([*])=O", "[*]O[Si]([*])(C)C",
]  # fmt: skip


def _settings(path: str, **changes) -> PoolSettings:
    values = yaml.safe_load((ROOT / "conf" / "pool" / path).read_text())
    for key, value in changes.items():
        if isinstance(value, dict):
            values[key].update(value)
        else:
            values[key] = value
    return PoolSettings.from_dict(values)


def _library_only(tmp_path: Path, rows: list[str], **filters) -> PoolSettings:
    path = tmp_path / "library.csv"
    pd.DataFrame({"name": range(len(rows)), "smiles": rows}).to_csv(path, index=False)
    return PoolSettings.from_dict(
        {
            "mutation": {"enabled": False},
            "brics": {"enabled": False},
            "library": {"path": str(path), "smiles_column": "smiles"},
            "filters": filters,
        }
    )


@pytest.fixture(scope="module")
def molecule_pool():
    settings = _settings("default.yaml", max_candidates=150)
    exclude = [parse_molecule(s).identity for s in MOLECULE_SEEDS]
    return generate_pool(MOLECULE_SEEDS, settings, exclude=exclude, seed=0), settings, exclude


@pytest.fixture(scope="module")
def polymer_pool():
    settings = _settings("polymer.yaml", max_candidates=150)
    exclude = [parse_molecule(s).identity for s in POLYMER_SEEDS]
    return generate_pool(POLYMER_SEEDS, settings, exclude=exclude, seed=0), settings, exclude


# --- settings -------------------------------------------------------------------------------


@pytest.mark.parametrize("name, kind", [("default.yaml", "auto"), ("polymer.yaml", "polymer")])
def test_shipped_yaml_files_are_valid_and_round_trip(name, kind):
    settings = _settings(name)
    assert settings.kind == kind
    again = PoolSettings.from_dict(json.loads(json.dumps(settings.to_dict())))
    assert again == settings


@pytest.mark.parametrize(
    "values, message",
    [
        ({"mutation": {"childrn_per_parent": 3}}, "'mutation.childrn_per_parent'"),
        ({"colour": "blue"}, "'colour'"),
        ({"max_candidates": "many"}, "max_candidates must be an integer"),
        ({"mutation": {"enabled": "maybe"}}, "mutation.enabled must be true/false"),  # YAML 1.1: yes is true
        ({"filters": {"alerts": "PAINS"}}, "filters.alerts must be a list"),
        ({"mutation": {"substituents": ["F", "SF5"]}}, "unknown substituent 'SF5'"),
        ({"mutation": {"operators": {"teleport": 1}}}, "unknown operator 'teleport'"),
        ({"filters": {"allowed_elements": ["C", "Xx"]}}, "not element symbols: 'Xx'"),
        ({"filters": {"alerts": ["PAINZ"]}}, "unknown alert catalogue 'PAINZ'"),
        ({"filters": {"min_heavy_atoms": 10, "max_heavy_atoms": 5}}, "min_heavy_atoms"),
        ({"kind": "protein"}, "kind must be"),
    ],
)
def test_bad_settings_name_the_key(values, message):
    with pytest.raises(ValueError) as info:
        PoolSettings.from_dict(values)
    assert message in str(info.value)


# --- small molecules ------------------------------------------------------------------------


def test_molecule_pool_sanitises_and_is_unique(molecule_pool):
    pool, settings, exclude = molecule_pool
    df = pool.candidates
    assert list(df.columns) == list(COLUMNS)
    assert len(df) == settings.max_candidates
    for smiles in df.smiles:
        mol = Chem.MolFromSmiles(smiles)
        assert mol is not None and "*" not in smiles
    assert df.identity.is_unique and not set(df.identity) & set(exclude)
    assert set(df.origin) == {"mutation", "brics"}
    seeds = {parse_molecule(s).smiles for s in MOLECULE_SEEDS}
    assert all(set(p.split(".")) <= seeds for p in df.parent)
    assert df.sa_score.dtype == float and (df.sa_score <= 4.5).all()


def test_summary_accounts_for_every_proposal(molecule_pool):
    pool, settings, _ = molecule_pool
    s = pool.summary
    assert s.kind == "molecule" and s.reached_max_candidates
    assert s.accepted == len(pool.candidates)
    assert s.proposed == s.accepted + sum(s.rejected.values())
    assert s.proposed == sum(s.proposed_by_origin.values())
    assert s.accepted_by_origin == pool.candidates.origin.value_counts().to_dict()
    json.dumps(s.to_dict())


def test_same_seed_same_pool_and_different_seed_different_pool(molecule_pool):
    pool, settings, exclude = molecule_pool
    again = generate_pool(MOLECULE_SEEDS, settings, exclude=exclude, seed=0)
    pd.testing.assert_frame_equal(pool.candidates, again.candidates)
    assert again.summary.to_dict() == pool.summary.to_dict()
    other = generate_pool(MOLECULE_SEEDS, settings, exclude=exclude, seed=1)
    assert set(other.candidates.identity) != set(pool.candidates.identity)


def test_pool_does_not_depend_on_python_hash_seed():
    code = (
        "from discovery.pool import PoolSettings, generate_pool\n"
        "settings = PoolSettings.from_dict({'max_candidates': 40, 'selfies': {'enabled': True}})\n"
        "pool = generate_pool(['CCOC(=O)c1ccccc1', 'Nc1ccc(O)cc1', 'CC(C)CO'], settings, seed=3)\n"
        "print(','.join(pool.candidates.smiles))\n"
    )
    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        outputs.add(run.stdout)
    assert len(outputs) == 1


def test_bad_seeds_are_counted_not_raised():
    settings = PoolSettings.from_dict({"max_candidates": 20})
    pool = generate_pool(["CCO", "C1CC", "not smiles", "c1ccccc1O", "[*]CC[*]", "OCC"], settings, seed=0)
    s = pool.summary
    assert s.seeds_given == 6 and s.seeds_used == 2
    assert s.seed_rejections == {"unparsable": 2, "not a small molecule": 1, "duplicate": 1}
    assert len(pool.candidates) == 20


def test_no_usable_seed_gives_an_empty_pool():
    pool = generate_pool(["C1CC"], PoolSettings(), seed=0)
    assert pool.candidates.empty and list(pool.candidates.columns) == list(COLUMNS)
    assert pool.summary.proposed == 0


# --- filters: every reason ------------------------------------------------------------------


def test_each_filter_rejects_what_it_claims(tmp_path):
    rows = {
        "CCO": None,  # accepted
        "OCC": "duplicate",  # same identity, written differently
        "CCO ": "duplicate",  # same text after stripping is parsed to the same identity
        "C1CC": "unparsable",
        "": "unparsable",
        "C[C](C)C": "radical",
        "[*]CC[*]": "not a small molecule",
        "C[Si](C)(C)CC": "element not allowed: Si",
        "CC": "heavy atoms out of range",
        "C" * 40: "heavy atoms out of range",
        "CC[N+](C)(C)C": "charged",
        "CC1C2CC3C(C)C4CC1C(C2)C34": "SA score > 4.5",
        "S=C1SC(=Cc2ccccc2)C(=O)N1": "alert: PAINS",
        "CCCCC=O": "alert: BRENK",
        "Oc1ccccc1": "measured",
    }
    settings = _library_only(tmp_path, list(rows))
    pool = generate_pool([], settings, exclude=[parse_molecule("c1ccccc1O").identity], seed=0)
    expected: dict[str, int] = {}
    for reason in rows.values():
        if reason is not None:
            expected[reason] = expected.get(reason, 0) + 1
    assert pool.summary.rejected == expected
    assert pool.candidates.smiles.tolist() == ["CCO"]
    assert pool.candidates.parent.tolist() == [""] and pool.candidates.origin.tolist() == ["library"]


def test_charge_separated_neutral_groups_pass_and_charges_can_be_allowed(tmp_path):
    rows = ["O=[N+]([O-])c1ccccc1", "C[N+](C)(C)CC(=O)[O-]", "CC[N+](C)(C)C"]
    strict = generate_pool([], _library_only(tmp_path, rows, alerts=[]), seed=0)
    assert strict.candidates.smiles.tolist() == ["O=[N+]([O-])c1ccccc1"]
    assert strict.summary.rejected == {"charged": 2}
    lenient = generate_pool([], _library_only(tmp_path, rows, alerts=[], allow_charged=True), seed=0)
    assert len(lenient.candidates) == 3


def test_polymer_filters_dedupe_repeats_and_cuts_and_check_junctions(tmp_path):
    rows = {
        "[*]CC([*])C#N": None,
        "[*]CC(C#N)CC(C#N)[*]": "duplicate",  # the same chain, two units long
        "[*]CCO[*]": None,
        "[*]COC[*]": "duplicate",  # poly(ethylene oxide) cut at another bond
        "[*]CC[*]": "measured",
        "[*]CCCC[*]": "measured",
        "CCO": "not a repeat unit",
        "[*]CC": "bad attachment points",
        "[*]OCCO[*]": "alert: UNSTABLE",  # O-O peroxide where two units meet
        "[*]CC([*])[Se]C": "element not allowed: Se",
    }
    settings = _library_only(tmp_path, list(rows), alerts=["UNSTABLE"], min_heavy_atoms=2)
    settings = PoolSettings.from_dict({**settings.to_dict(), "kind": "polymer"})
    pool = generate_pool([], settings, exclude=[parse_molecule("[*]CC[*]").identity], seed=0)
    expected: dict[str, int] = {}
    for reason in rows.values():
        if reason is not None:
            expected[reason] = expected.get(reason, 0) + 1
    assert pool.summary.rejected == expected
    assert pool.candidates.smiles.tolist() == ["[*]CC([*])C#N", "[*]CCO[*]"]


def test_library_file_problems_are_clear(tmp_path):
    csv = tmp_path / "lib.csv"
    csv.write_text("name,smi\na,CCO\n")
    with pytest.raises(ValueError, match="no column 'smiles'"):
        generate_pool([], PoolSettings.from_dict({"library": {"path": str(csv)}}))
    with pytest.raises(FileNotFoundError):
        generate_pool([], PoolSettings.from_dict({"library": {"path": str(tmp_path / "missing.smi")}}))
    smi = tmp_path / "lib.smi"
    smi.write_text("# vendor catalogue\nCCOC(C)=O ethyl-acetate\n\nC1CC broken\nc1ccccc1N aniline\n")
    pool = generate_pool([], PoolSettings.from_dict({"library": {"path": str(smi)}, "filters": {"alerts": []}}))
    assert pool.candidates.smiles.tolist() == ["CCOC(C)=O", "Nc1ccccc1"]
    assert pool.summary.rejected == {"unparsable": 1}


# --- polymers -------------------------------------------------------------------------------


def test_polymer_candidates_keep_two_attachment_points(polymer_pool):
    pool, settings, exclude = polymer_pool
    df = pool.candidates
    assert pool.summary.kind == "polymer" and len(df) == settings.max_candidates
    assert set(df.origin) == {"mutation", "brics"}
    for smiles in df.smiles:
        molecule = parse_molecule(smiles)
        assert molecule.is_polymer and smiles.count("[*]") == 2 and molecule.smiles == smiles
    keys = [chain_key(parse_molecule(s).mol) for s in df.smiles]
    assert len(set(keys)) == len(keys)
    assert not set(df.identity) & set(exclude)
    # SA of the methyl-capped repeat unit is bounded by the polymer setting
    assert (df.sa_score <= settings.filters.max_sa_score).all()


def test_polymer_pool_is_reproducible(polymer_pool):
    pool, settings, exclude = polymer_pool
    again = generate_pool(POLYMER_SEEDS, settings, exclude=exclude, seed=0)
    pd.testing.assert_frame_equal(pool.candidates, again.candidates)
    other = generate_pool(POLYMER_SEEDS, settings, exclude=exclude, seed=5)
    assert set(other.candidates.identity) != set(pool.candidates.identity)


@pytest.mark.parametrize("operator", OPERATORS)
def test_every_operator_leaves_the_attachment_points_alone(operator):
    settings = MutationSettings(operators=((operator, 1.0),))
    mutator = Mutator(settings)
    rng = np.random.default_rng(0)
    children = 0
    for seed in POLYMER_SEEDS + ["[*]C1CCC([*])CC1", "[*]c1ccc(C2CCCCC2)c([*])c1"]:
        mol = parse_molecule(seed).mol
        for _ in range(15):
            child = mutator.mutate(mol, rng)
            if child is None:
                continue
            children += 1
            assert Chem.MolFromSmiles(child) is not None
            molecule = parse_molecule(child)  # raises unless exactly two single-bonded [*]
            assert molecule.is_polymer
    assert children > 0


def test_selfies_mutation_keeps_attachment_points():
    settings = PoolSettings.from_dict(
        {
            "kind": "polymer",
            "max_candidates": 40,
            "mutation": {"enabled": False},
            "brics": {"enabled": False},
            "selfies": {"enabled": True, "children_per_parent": 10},
            "filters": {"alerts": [], "max_sa_score": None, "min_heavy_atoms": 1},
        }
    )
    pool = generate_pool(POLYMER_SEEDS, settings, seed=0)
    assert len(pool.candidates) > 10 and set(pool.candidates.origin) == {"selfies"}
    assert all(s.count("[*]") == 2 for s in pool.candidates.smiles)


def test_library_and_generators_take_turns(tmp_path):
    path = tmp_path / "lib.smi"
    path.write_text("\n".join(["CCCCO", "CCCCCO", "CCCCCCO", "CCCCCCCO", "CCCCCCCCO"] * 3))
    settings = PoolSettings.from_dict({"max_candidates": 12, "library": {"path": str(path)}, "filters": {"alerts": []}})
    pool = generate_pool(["c1ccccc1CC(=O)OC"], settings, seed=0)
    assert set(pool.candidates.origin) == {"library", "mutation", "brics"}


def test_filter_settings_defaults_match_the_issue():
    f = FilterSettings()
    assert f.max_sa_score == 4.5 and f.alerts == ("PAINS", "BRENK") and not f.allow_charged
