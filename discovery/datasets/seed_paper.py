"""The seed paper's own FreeSolv benchmark: its data, its headline splits and its figures.

Shimakawa, Kumada & Sato (npj Comput. Mater. 10, 11, 2024) published the hydration free energies
of 631 FreeSolv molecules with their 22 QMex descriptors, 44 chemical categories and train/test
splits (repository `shimakawa-hvg/QMex-ILR`, `data_test/`, MIT licence). The files are not
shipped: they are read from `../shared/benchmarks/qmex_dgs/` next to the checkout (its README
describes them), or from a directory given explicitly.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from discovery.paths import PROJECT_ROOT

#: Where the files live: `shared/benchmarks/qmex_dgs` beside the checkout (or worktree).
DEFAULT_DIRECTORY = PROJECT_ROOT.parent / "shared" / "benchmarks" / "qmex_dgs"
DESCRIPTOR_FILE = "bench_dGs_with_qmex_predict.csv"
CATEGORY_FILE = "bench_dGs_with_category.csv"
SPLIT_FILE = "idx_bench_dGs.csv"
#: The target: experimental hydration free energy (the files' `dGs`).
TARGET = "hydration_free_energy_kcal_mol"
SPLIT_KINDS = ("property", "cluster", "similarity")
#: Training-set sizes of the paper's headline splits (its other rows are extrapolation-ratio sweeps).
HEADLINE_N_IN = (500, 200, 100, 50)
#: Test RMSE (kcal/mol) of the paper's PLS-ILR on each headline split, recomputed from the
#: paper's code on these files (their README; the paper's notebook prints the MSE as "rmse").
PAPER_RMSE: dict[tuple[str, int], float] = {
    ("property", 500): 1.946, ("property", 200): 1.799, ("property", 100): 1.644, ("property", 50): 1.775,
    ("cluster", 500): 0.950, ("cluster", 200): 1.375, ("cluster", 100): 7.232, ("cluster", 50): 1.744,
    ("similarity", 500): 0.987, ("similarity", 200): 1.235, ("similarity", 100): 2.038, ("similarity", 50): 1.834,
}  # fmt: skip


@dataclass(frozen=True)
class PaperSplit:
    """One headline split: `train` and `test` are 0-based rows of the benchmark's table."""

    kind: str
    n_in: int
    train: np.ndarray
    test: np.ndarray

    @property
    def name(self) -> str:
        return f"{self.kind}/{self.n_in}"

    @property
    def paper_rmse(self) -> float:
        return PAPER_RMSE[(self.kind, self.n_in)]


@dataclass(frozen=True)
class SeedPaperBenchmark:
    """The benchmark as one table and its splits.

    Attributes:
        table: One row per molecule, in the files' order: `smiles`, `TARGET` (kcal/mol), the
            descriptor columns, the category columns (0/1, NaN where the paper left one undefined).
        descriptors: The 22 QMex descriptor columns (`mw` ... `dEbase`).
        categories: The 44 chemical-category columns (`polar` ... `amide`).
        splits: The 12 headline splits, by kind (property, cluster, similarity), then n_in 500 → 50.
    """

    table: pd.DataFrame
    descriptors: tuple[str, ...]
    categories: tuple[str, ...]
    splits: tuple[PaperSplit, ...]


def load_seed_paper_benchmark(directory: str | Path | None = None) -> SeedPaperBenchmark:
    """Read the benchmark from `directory` (default `DEFAULT_DIRECTORY`).

    Raises:
        FileNotFoundError: the directory or one of its three files is missing (naming it).
        ValueError: the two tables do not list the same molecules, or a headline split is not
            there exactly once.
    """
    folder = Path(directory) if directory is not None else DEFAULT_DIRECTORY
    for name in (DESCRIPTOR_FILE, CATEGORY_FILE, SPLIT_FILE):
        if not (folder / name).is_file():
            raise FileNotFoundError(
                f"the seed paper's benchmark file {folder / name} is missing: the benchmark is read from "
                f"shared/benchmarks/qmex_dgs beside the checkout ({DEFAULT_DIRECTORY}), or pass its directory"
            )
    qmex = pd.read_csv(folder / DESCRIPTOR_FILE)
    flags = pd.read_csv(folder / CATEGORY_FILE)
    if not qmex["smiles"].equals(flags["smiles"]):
        raise ValueError(f"{DESCRIPTOR_FILE} and {CATEGORY_FILE} do not list the same molecules in the same order")
    # as the paper's code reads them: descriptors from `mw` on, categories from `polar` on
    descriptors = tuple(qmex.columns[qmex.columns.get_loc("mw"):])
    categories = tuple(flags.columns[flags.columns.get_loc("polar"):])
    table = pd.concat([qmex[["smiles"]], qmex["dGs"].rename(TARGET), qmex[list(descriptors)],
                       flags[list(categories)].astype(float)], axis=1)

    index = pd.read_csv(folder / SPLIT_FILE)
    splits = []
    for kind in SPLIT_KINDS:
        for n_in in HEADLINE_N_IN:
            rows = index[(index["extra"] == kind) & (index["n_inter"] == n_in)]
            if len(rows) != 1:
                raise ValueError(f"{SPLIT_FILE} has {len(rows)} rows for the {kind} split with n_inter = {n_in}, not 1")
            (row,) = rows.itertuples()
            train, test = (np.array(ast.literal_eval(getattr(row, k)), dtype=np.int64) for k in ("idx_inter", "idx_extra"))
            splits.append(PaperSplit(kind, n_in, train, test))
    return SeedPaperBenchmark(table, descriptors, categories, tuple(splits))
