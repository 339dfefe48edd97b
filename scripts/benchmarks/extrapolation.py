"""Extrapolation benchmark on the public `chemicals` suite: every model, every property.

    python scripts/benchmarks/extrapolation.py [--split upper_tail] [--n-in 200] [--seeds 0 1 2]
        [--models bayes_ilr pls_ilr gp_tanimoto rf_morgan krr_qm pls_qm] [--properties ...]
        [--qm fast] [--bayes-sampler gibbs] [--out scripts/benchmarks/results/extrapolation.json] [--markdown BENCHMARKS.md]

Each property is featurised once (GFN2-xTB, cached), then for each seed the split is drawn once
and every model is fitted on the same training rows and scored on the same test rows. Results
go to JSON (per property, model and seed, plus means over seeds) and, with --markdown, a table
replaces the block between the extrapolation markers in BENCHMARKS.md. Partial results are
written after every property, so a long run can be read while it goes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np

from discovery.datasets import PROPERTIES, load_property
from discovery.evaluation import evaluate, json_safe, make_splits, model_factory, prepare_dataset
from discovery.files import atomic_write_text, replace_between_markers

DEFAULT_MODELS = ["bayes_ilr", "pls_ilr", "gp_tanimoto", "rf_morgan", "krr_qm", "pls_qm"]
BEGIN, END = "<!-- extrapolation:begin -->", "<!-- extrapolation:end -->"


def run(args: argparse.Namespace) -> dict:
    report: dict = {
        "command": "python scripts/benchmarks/extrapolation.py " + " ".join(args.argv),
        "split": args.split, "n_in": args.n_in, "seeds": args.seeds, "qm": args.qm,
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "properties": {},
    }
    for name in args.properties:
        table = load_property(name)
        data = prepare_dataset(table, "smiles", "value", qm=args.qm, progress=False)
        per_model: dict[str, list[dict]] = {m: [] for m in args.models}
        for seed in args.seeds:
            splits = make_splits(data, args.split, seed=seed, n_in=args.n_in)
            for model in args.models:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    start = time.perf_counter()
                    params = {"sampler": {"method": args.bayes_sampler}} if model == "bayes_ilr" and args.bayes_sampler else None
                    result = evaluate(data.table, data.y, model_factory(model, params, seed=seed), splits, sigma_all=data.sigma_all)
                metrics = dict(result.mean)
                metrics["seconds"] = round(time.perf_counter() - start, 2)
                if "health" in result.splits[0]:  # the sampler's own figures (upper_tail: one split)
                    metrics["health"] = result.splits[0]["health"]
                metrics["warnings"] = sorted({str(w.message)[:160] for w in caught if "Diagnostics" in type(w.message).__name__})
                per_model[model].append({"seed": seed, **metrics})
                print(f"{name:24s} seed {seed} {model:12s} rmse/sd {metrics['rmse_over_sigma_all']:.3f} "
                      f"cov90 {metrics['coverage_90']:.2f} n_test {metrics['n_test']} {metrics['seconds']:.0f}s", flush=True)
        report["properties"][name] = {
            "n_molecules": len(data.y), "unit": PROPERTIES[name].unit,
            "models": {m: {"runs": runs, "mean": _mean(runs)} for m, runs in per_model.items()},
        }
        _write(report, args)
    report["summary"] = _summary(report, args.models)
    _write(report, args)
    return report


def _mean(runs: list[dict]) -> dict:
    keys = ["rmse_over_sigma_all", "coverage_90", "mean_interval_width_90", "spearman", "nlpd", "seconds"]
    return {k: float(np.nanmean([r[k] for r in runs])) for k in keys}


def _summary(report: dict, models: list[str]) -> dict:
    """Wins of bayes_ilr against each baseline (RMSE/σ_all at or below) and calibrated properties."""
    props = report["properties"]
    out: dict = {}
    if "bayes_ilr" in models:
        ours = {p: v["models"]["bayes_ilr"]["mean"] for p, v in props.items()}
        for other in models:
            if other != "bayes_ilr":
                out[f"bayes_ilr_rmse_at_or_below_{other}"] = sum(
                    ours[p]["rmse_over_sigma_all"] <= props[p]["models"][other]["mean"]["rmse_over_sigma_all"] for p in props
                )
    for m in models:
        out[f"{m}_coverage_in_0.80_0.97"] = sum(0.80 <= v["models"][m]["mean"]["coverage_90"] <= 0.97 for v in props.values())
    out["n_properties"] = len(props)
    return out


def _markdown(report: dict, models: list[str]) -> str:
    lines = [
        f"Split `{report['split']}`, n_in = {report['n_in']}, seeds {report['seeds']}, QM preset `{report['qm']}`. "
        "Cells: RMSE/σ_all (lower is better) · 90 % interval coverage. Mean over seeds.",
        "",
        "| property | N | " + " | ".join(models) + " |",
        "|---|---|" + "---|" * len(models),
    ]
    for name, v in report["properties"].items():
        cells = [f"{v['models'][m]['mean']['rmse_over_sigma_all']:.3f} · {v['models'][m]['mean']['coverage_90']:.2f}" for m in models]
        lines.append(f"| {name} | {v['n_molecules']} | " + " | ".join(cells) + " |")
    if "summary" in report:
        lines += ["", "Summary: " + ", ".join(f"{k} = {val}" for k, val in report["summary"].items())]
    return "\n".join(lines)


def _write(report: dict, args: argparse.Namespace) -> None:
    atomic_write_text(args.out, json.dumps(json_safe(report), indent=1) + "\n")
    if args.markdown:
        replace_between_markers(args.markdown, BEGIN, END, _markdown(report, args.models), "## Extrapolation (`scripts/benchmarks/extrapolation.py`)")


def main(argv: list[str] | None = None) -> None:
    import sys

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="upper_tail")
    parser.add_argument("--n-in", type=int, default=200)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS)
    parser.add_argument("--properties", nargs="+", default=list(PROPERTIES))
    parser.add_argument("--qm", default="fast")
    parser.add_argument("--bayes-sampler", default=None, choices=["gibbs", "nutpie", "pymc", "advi"],
                        help="BayesianILR's sampler.method (default: the model's own, exact Gibbs)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "extrapolation.json")
    parser.add_argument("--markdown", default=None)
    args = parser.parse_args(argv)
    args.argv = argv
    run(args)


if __name__ == "__main__":
    main()
