"""The seed paper's own benchmark: FreeSolv hydration free energies on its 12 headline splits.

    python scripts/benchmarks/seed_paper.py [--models pls_ilr_paper bayes_ilr_qmex bayes_ilr_xtb]
        [--splits property/200 ...] [--bayes-categories training|table] [--xtb-preset fast|full]
        [--seed 0] [--data DIR]
        [--out scripts/benchmarks/results/seed_paper.json] [--markdown BENCHMARKS.md]

Data, splits and figures: Shimakawa, Kumada & Sato (npj Comput. Mater. 10, 11, 2024), read from
`../shared/benchmarks/qmex_dgs/` beside the checkout (`discovery.datasets.seed_paper`). Each
model is fitted on a split's `idx_inter` rows and scored on its `idx_extra` rows:

- `pls_ilr_paper`: `PLSILR` with the paper's design: the 22 raw QMex descriptors, an intercept
  and each descriptor times both levels of the categories whose minority is more than 10 % of all
  631 molecules (18 of 44, chosen on the whole table as the paper does: structures, not targets),
  the raw descriptors kept (850 columns), PLS with 8 components on scaled columns. It must give
  the paper's RMSE within 0.01.
- `bayes_ilr_qmex`: `BayesianILR` (its defaults) on the same descriptors and the paper's 44
  categories, chosen as its defaults do on the training rows (`--bayes-categories training`), or
  the paper's 18 chosen on the whole table (`table`).
- `bayes_ilr_xtb`: the same on our GFN2-xTB descriptors (`--xtb-preset`: `fast`, the default,
  or `full` with relaxed geometries and acid/base energies in implicit water, as the paper's
  descriptors have) and computed categories (featurised once into the default cache). Molecules
  whose featurisation fails are left out of the splits (counted in the JSON).

Per model and split: RMSE (kcal/mol), its ratio to the paper's, 90 % interval coverage, mean 90 %
interval width, fit seconds. JSON after every fit; with --markdown, a table replaces the block
between the seed_paper markers in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from discovery.datasets.seed_paper import DEFAULT_DIRECTORY, TARGET, SeedPaperBenchmark, load_seed_paper_benchmark
from discovery.evaluation import Dataset, evaluate, json_safe, make_splits, model_factory, prepare_dataset
from discovery.files import atomic_write_text, replace_between_markers
from discovery.evaluation.factory import ModelFactory
from discovery.features import default_cache_path
from discovery.features.interactions import MinorityRule, choose_categories

ROOT = Path(__file__).resolve().parents[2]
MODELS = ["pls_ilr_paper", "bayes_ilr_qmex", "bayes_ilr_xtb"]
BEGIN, END = "<!-- seed_paper:begin -->", "<!-- seed_paper:end -->"
#: The paper's category choice: drop a category whose minority is at most 10 % of the table.
MIN_FRACTION, RULE = 0.1, MinorityRule.MORE_THAN
#: The paper's design, besides the categories it is given (`make_interaction_term`, degree 1).
PAPER_DESIGN = {"n_components": 8, "standardize": False, "screen_categories": False}


def _datasets(benchmark: SeedPaperBenchmark, models: list[str], xtb_preset: str) -> dict[str, Dataset]:
    """The paper's features (QMex descriptors, its categories) and, if needed, ours (GFN2-xTB)."""
    out = {"qmex": prepare_dataset(benchmark.table, "smiles", TARGET, descriptors=benchmark.descriptors,
                                   category_columns=benchmark.categories)}
    if "bayes_ilr_xtb" in models:
        out["xtb"] = prepare_dataset(benchmark.table[["smiles", TARGET]], "smiles", TARGET, qm=xtb_preset,
                                     cache=default_cache_path(), progress=False)
    return out


def _factory(model: str, data: Dataset, seed: int, bayes_categories: str) -> ModelFactory:
    """The model; categories chosen on every molecule of the table (structures, never targets) for
    the paper's design, and for BayesianILR with `bayes_categories="table"`."""
    on_table = choose_categories(data.table, data.categories, MIN_FRACTION, RULE)
    if model == "pls_ilr_paper":
        return model_factory("pls_ilr", PAPER_DESIGN, seed=seed, descriptors=data.descriptors, categories=on_table)
    if bayes_categories == "table":
        return model_factory("bayes_ilr", {"screen_categories": False}, seed=seed, descriptors=data.descriptors,
                             categories=on_table)
    return model_factory("bayes_ilr", seed=seed, descriptors=data.descriptors, categories=data.categories)


def run(args: argparse.Namespace) -> dict:
    benchmark = load_seed_paper_benchmark(args.data)
    chosen = [s for s in benchmark.splits if not args.splits or s.name in args.splits]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    report: dict = {
        "command": "python scripts/benchmarks/seed_paper.py " + " ".join(args.argv),
        "date": datetime.date.today().isoformat(), "commit": commit, "seed": args.seed,
        "bayes_categories": args.bayes_categories, "xtb_preset": args.xtb_preset,
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "data": {}, "models": {m: [] for m in args.models},
    }
    datasets = _datasets(benchmark, args.models, args.xtb_preset)
    for name, data in datasets.items():
        report["data"][name] = {"n_usable": data.n_usable, "dropped": data.dropped, "descriptors": len(data.descriptors),
                                "categories_chosen_on_table": choose_categories(data.table, data.categories, MIN_FRACTION, RULE)}
    for model in args.models:
        data = datasets["xtb" if model == "bayes_ilr_xtb" else "qmex"]
        factory = _factory(model, data, args.seed, args.bayes_categories)
        for split in chosen:
            (rows,) = make_splits(data, "indices", train=split.train.tolist(), test=split.test.tolist())
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the model's own warnings are kept per split by `evaluate`
                result = evaluate(data.table, data.y, factory, [rows])
            (s,) = result.splits
            entry = {
                "split": split.name, "n_train": s["n_train"], "n_test": s["n_test"], "rmse": s["rmse"],
                "paper_rmse": split.paper_rmse, "ratio_to_paper": s["rmse"] / split.paper_rmse,
                "coverage_90": s["coverage_90"], "mean_interval_width_90": s["mean_interval_width_90"],
                "fit_seconds": s["fit_seconds"], "warnings": s["warnings"],
            }
            report["models"][model].append(entry)
            print(f"{model:15s} {split.name:15s} RMSE {entry['rmse']:.3f} (paper {split.paper_rmse:.3f}, "
                  f"x{entry['ratio_to_paper']:.2f}) cov90 {entry['coverage_90']:.2f} "
                  f"width {entry['mean_interval_width_90']:.2f} fit {entry['fit_seconds']:.1f} s", flush=True)
            _write(report, args)
    return report


def _cell(entry: dict | None, formats: tuple[Callable[[dict], str], ...]) -> list[str]:
    return ["–"] * len(formats) if entry is None else [f(entry) for f in formats]


def _markdown(report: dict) -> str:
    models = [m for m, entries in report["models"].items() if entries]
    splits = list(dict.fromkeys(e["split"] for m in models for e in report["models"][m]))
    by = {(m, e["split"]): e for m in models for e in report["models"][m]}
    first = by[(models[0], splits[0])] if models and splits else None
    lines = [
        f"Command: `OMP_NUM_THREADS=1 .venv/bin/python {report['command'].removeprefix('python ')}`, {report['date']}, "
        f"commit {report['commit']}, seed {report['seed']}. RMSE in kcal/mol (× the paper's), 90 % interval "
        "coverage, mean 90 % interval width (kcal/mol), fit seconds (PLS: with its 5-fold CV noise estimate; "
        "BayesianILR: sampling and extrapolation rehearsal). The paper's design chooses its categories on the "
        f"whole table (minority > 10 %): {len(report['data']['qmex']['categories_chosen_on_table'])} of its 44"
        + (f" ({len(report['data']['xtb']['categories_chosen_on_table'])} of ours)" if "xtb" in report["data"] else "")
        + "; BayesianILR chooses "
        + ("the same way." if report["bayes_categories"] == "table" else "on each split's training rows (its default)."),
        "",
    ]
    if "xtb" in report["data"]:
        d = report["data"]["xtb"]
        lines += [f"GFN2-xTB `{report['xtb_preset']}` features: {d['n_usable']} of 631 molecules usable"
                  + (f" (dropped: {d['dropped']})" if d["dropped"] else "") + ".", ""]
    header = "| split | n_train / n_test | paper |"
    rule = "|---|---|---|"
    for m in models:
        header += f" {m} RMSE | cov. | width | s |"
        rule += "---|---|---|---|"
    lines += [header, rule]
    for split in splits:
        entry = next(by[(m, split)] for m in models if (m, split) in by)
        row = f"| {split} | {entry['n_train']} / {entry['n_test']} | {entry['paper_rmse']:.3f} |"
        for m in models:
            cells = _cell(by.get((m, split)), (
                lambda e: f"{e['rmse']:.3f} (×{e['ratio_to_paper']:.2f})", lambda e: f"{e['coverage_90']:.2f}",
                lambda e: f"{e['mean_interval_width_90']:.2f}",
                lambda e: f"{e['fit_seconds']:.1f}" if e["fit_seconds"] >= 1 else f"{e['fit_seconds']:.2f}",
            ))  # fmt: skip
            row += " " + " | ".join(cells) + " |"
        lines.append(row)
    if first is not None:
        summary = []
        for m in models:
            entries = report["models"][m]
            ratios = np.array([e["ratio_to_paper"] for e in entries])
            better = sum(e["rmse"] < e["paper_rmse"] - 0.01 for e in entries)
            text = (f"`{m}`: median ratio to the paper {np.median(ratios):.2f}, more than 0.01 below the paper on "
                    f"{better}/{len(entries)}, mean coverage {np.mean([e['coverage_90'] for e in entries]):.2f}")
            if m == "pls_ilr_paper":
                within = sum(abs(e["rmse"] - e["paper_rmse"]) <= 0.01 for e in entries)
                text += f", within 0.01 of the paper on {within}/{len(entries)}"
            summary.append(text)
        lines += ["", "; ".join(summary) + "."]
    return "\n".join(lines)


def _write(report: dict, args: argparse.Namespace) -> None:
    atomic_write_text(args.out, json.dumps(json_safe(report), indent=1) + "\n")
    if args.markdown:
        replace_between_markers(args.markdown, BEGIN, END, _markdown(report), "## The seed paper's benchmark (`scripts/benchmarks/seed_paper.py`)")


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    parser.add_argument("--splits", nargs="+", default=None, help="e.g. property/200 cluster/50 (default: all 12)")
    parser.add_argument("--bayes-categories", choices=["training", "table"], default="training",
                        help="BayesianILR's categories: chosen on the training rows (its default) or on the whole table")
    parser.add_argument("--xtb-preset", choices=["fast", "full"], default="fast",
                        help="descriptor preset of bayes_ilr_xtb (`QMPreset`)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the models (BayesianILR's sampler, PLS's CV folds)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DIRECTORY, help="the benchmark's directory")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "seed_paper.json")
    parser.add_argument("--markdown", default=None)
    args = parser.parse_args(argv)
    args.argv = argv
    run(args)


if __name__ == "__main__":
    main()
