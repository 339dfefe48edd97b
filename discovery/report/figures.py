"""The report's plots: matplotlib (Agg, no pyplot state) rendered to inline PNG data URIs.

Raster PNG throughout: a 100k-candidate pool is a few tens of kB as an image but megabytes as
SVG. User text (term labels, SMILES, the target name) passes through `_plain`, so a `$` in a
name is shown as a dollar sign instead of starting mathtext.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from discovery.objective import Direction
from discovery.report.data import observed_coverage
from discovery.report.format import number

BLUE, ORANGE, RED, GREY, GREEN = "#2b6cb0", "#dd6b20", "#c53030", "#8a8f98", "#2f855a"
STYLE = {
    "font.size": 10.5,
    "axes.titlesize": 11.5,
    "axes.labelsize": 10.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.8,
    "legend.frameon": False,
    "legend.fontsize": 9.5,
    "figure.dpi": 100,
}
# light grey to near black: a lone candidate still shows against the shaded measured range
DENSITY = LinearSegmentedColormap.from_list("pool_density", ["#c4cad3", "#1f2a37"])
NOMINAL_LEVELS = np.round(np.arange(0.05, 1.0, 0.05), 2)
Z90 = 1.6448536269514722  # standard normal 95th percentile: half-width of a 90 % interval in SDs


@contextmanager
def _figure(width: float, height: float) -> Iterator[Figure]:
    with matplotlib.rc_context(STYLE):
        yield Figure(figsize=(width, height), layout="constrained")


def to_data_uri(fig: Figure, dpi: int) -> str:
    """The figure as a `data:image/png;base64,...` URI."""
    buffer = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def parity_figure(cv: pd.DataFrame, label: str) -> Figure:
    """Held-out predicted mean (with 90 % intervals) against the measured value."""
    label = _plain(label)
    inside = (cv["y"] >= cv["lower_90"]) & (cv["y"] <= cv["upper_90"])
    with _figure(5.3, 4.4) as fig:
        ax = fig.add_subplot()
        for mask, colour, name in ((inside, BLUE, "inside its 90 % interval"), (~inside, ORANGE, "outside its 90 % interval")):
            rows = cv[mask]
            if rows.empty:
                continue
            # intervals as plain lines: a skewed predictive may put its mean outside the central interval
            ax.vlines(rows["y"], rows["lower_90"], rows["upper_90"], color=colour, lw=1, alpha=0.35)
            ax.scatter(rows["y"], rows["mean"], s=22, color=colour, alpha=0.9, lw=0, label=f"{name} ({len(rows)})")
        # frame the points, not the intervals: long-tailed intervals may run off the edge
        low = float(min(cv["y"].min(), cv["mean"].min()))
        high = float(max(cv["y"].max(), cv["mean"].max()))
        pad = 0.12 * (high - low or 1.0)
        low, high = low - pad, high + pad
        ax.plot([low, high], [low, high], color=GREY, lw=1, ls="--", zorder=0)
        ax.set(xlim=(low, high), ylim=(low, high))
        rmse = float(np.sqrt(np.mean((cv["y"] - cv["mean"]) ** 2)))
        ax.set(xlabel=f"measured {label}", ylabel=f"predicted {label} (held out)", title="Cross-validated predictions")
        ax.text(0.03, 0.97, f"RMSE {rmse:.3g}\n{inside.sum()} of {len(cv)} inside 90 % interval",
                transform=ax.transAxes, va="top", fontsize=9.5, bbox={"fc": "white", "ec": "#ddd", "pad": 4})
        ax.legend(loc="lower right")
    return fig


def calibration_figure(cv: pd.DataFrame) -> Figure:
    """Observed against nominal coverage of central predictive intervals, with the band that
    sampling noise alone explains for this many molecules."""
    n = len(cv)
    observed = observed_coverage(cv["pit"].to_numpy(), NOMINAL_LEVELS)
    band = Z90 * np.sqrt(NOMINAL_LEVELS * (1 - NOMINAL_LEVELS) / max(n, 1))
    with _figure(5.3, 4.4) as fig:
        ax = fig.add_subplot()
        ax.fill_between(NOMINAL_LEVELS, NOMINAL_LEVELS - band, NOMINAL_LEVELS + band, color=GREY, alpha=0.2, lw=0,
                        label=f"expected scatter for {n} molecules (90 %)")
        ax.plot([0, 1], [0, 1], color=GREY, lw=1, ls="--")
        ax.plot(NOMINAL_LEVELS, observed, "o-", color=BLUE, ms=4, lw=1.6, label="observed")
        ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="nominal coverage of the interval",
               ylabel="fraction of measured values inside", title="Calibration of the intervals")
        ax.text(0.03, 0.97, "above the line: intervals too wide", transform=ax.transAxes, fontsize=9, color="#555", va="top")
        ax.text(0.97, 0.03, "below the line: intervals too narrow", transform=ax.transAxes, fontsize=9, color="#555", ha="right")
        fig.legend(loc="outside lower center", ncols=2)
    return fig


def last_round_figure(last_round: pd.DataFrame, label: str, best_before: float | None) -> Figure:
    """Per measured proposal: the interval predicted last round and the value the lab measured."""
    label = _plain(label)
    rows = last_round.sort_values("mean").reset_index(drop=True)
    names = [_shorten(s) for s in rows["smiles"]]
    inside = (rows["measured"] >= rows["lower_90"]) & (rows["measured"] <= rows["upper_90"])
    with _figure(5.3, 1.6 + 0.36 * len(rows)) as fig:
        ax = fig.add_subplot()
        y = np.arange(len(rows))
        ax.hlines(y, rows["lower_90"], rows["upper_90"], color=BLUE, lw=5, alpha=0.35, label="predicted 90 % interval")
        ax.plot(rows["mean"], y, "|", color=BLUE, ms=12, mew=2, label="predicted mean")
        ax.scatter(rows["measured"], y, marker="D", s=34, zorder=3, c=np.where(inside, GREEN, RED), label="measured")
        if best_before is not None:
            ax.axvline(best_before, color=GREY, ls="--", lw=1, label="best before that round")
        ax.set_yticks(y, names, fontsize=8.5, fontfamily="monospace")
        ax.grid(axis="y", visible=False)
        ax.set(xlabel=label)
        fig.legend(loc="outside upper center", ncols=2, fontsize=8.5)
    return fig


def forest_figure(terms: pd.DataFrame, label: str) -> Figure:
    """Posterior mean and 90 % interval of each term's effect, strongest at the top."""
    label = _plain(label)
    rows = terms.iloc[::-1].reset_index(drop=True)
    colours = np.where(rows["excludes_zero"].astype(bool), BLUE, GREY)
    with _figure(10.5, 1.1 + 0.33 * len(rows)) as fig:
        ax = fig.add_subplot()
        y = np.arange(len(rows))
        ax.hlines(y, rows["lower_5"], rows["upper_95"], colors=colours, lw=2.2)
        ax.scatter(rows["mean"], y, c=colours, s=30, zorder=3)
        ax.axvline(0, color="#444", lw=1)
        ax.set_yticks(y, [_plain(t) for t in rows["label"]])
        ax.grid(axis="y", visible=False)
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.set(xlabel=f"effect on {label} of +1 SD of the term")
    return fig


def landscape_figure(
    pool: pd.DataFrame,
    proposals: pd.DataFrame,
    measured_range: tuple[float, float],
    best: float | None,
    label: str,
    max_scatter: int,
) -> Figure:
    """Pool predicted value against the width of its 90 % interval (property units, log axis, so
    a tenfold difference in certainty reads the same everywhere); a hexbin density when the pool
    is large."""
    label = _plain(label)
    width = (pool["upper_90"] - pool["lower_90"]).to_numpy(float)
    shown = width > 0  # an interval clipped to nothing at a physical limit has no place on a log axis
    proposal_width = (proposals["upper_90"] - proposals["lower_90"]).to_numpy(float)
    with _figure(10.5, 5.4) as fig:
        ax = fig.add_subplot()
        ax.axvspan(*measured_range, color=GREEN, alpha=0.12, lw=0, label="measured range")
        if best is not None:
            ax.axvline(best, color=GREEN, ls="--", lw=1.2, label="best measured")
        x, y = pool["mean"].to_numpy(float)[shown], width[shown]
        if len(x) <= max_scatter:
            ax.scatter(x, y, s=7, color=GREY, alpha=0.55, lw=0, label=f"pool ({len(pool):,} candidates)")
        else:
            cells = ax.hexbin(x, np.log10(y), gridsize=90, bins="log", mincnt=1, cmap=DENSITY, linewidths=0)
            fig.colorbar(cells, ax=ax, label="candidates per cell", pad=0.01)
            ax.plot([], [], "h", color=GREY, label=f"pool ({len(pool):,} candidates, density)")
        marked = proposal_width > 0
        y_marks = proposal_width if len(x) <= max_scatter else np.log10(np.where(marked, proposal_width, np.nan))
        ax.scatter(proposals["mean"], y_marks, marker="*", s=170, color=RED, edgecolor="white", lw=0.6,
                   zorder=4, label="proposals (rank)")
        for rank, px, py, ok in zip(proposals["rank"], proposals["mean"], y_marks, marked):
            if ok:
                ax.annotate(str(rank), (px, py), xytext=(5, 4), textcoords="offset points", fontsize=8.5, color=RED, zorder=5)
        ylabel = f"width of the 90 % interval of {label}"
        if len(x) <= max_scatter:
            ax.set_yscale("log")
            ax.set(xlabel=f"predicted {label}", ylabel=ylabel)
        else:  # hexbin bins a log-transformed axis; label its ticks in the property's units
            ax.set(xlabel=f"predicted {label}", ylabel=ylabel)
            ticks = ax.get_yticks()
            ax.set_yticks(ticks, [number(10**t) for t in ticks])
        fig.legend(loc="outside lower center", ncols=4)
    return fig


def properties_figure(
    measured: pd.DataFrame,
    proposals: pd.DataFrame,
    x_label: str,
    y_label: str,
    thresholds: Sequence[float],
    staircase: tuple[Direction, Direction] | None,
    log_x: bool = False,
) -> Figure:
    """The measured molecules and the proposals in the plane of the target (x) and one further
    property (y).

    Args:
        measured: x, y (NaN: not measured), feasible (meets every constraint), on_front (a member
            of the feasible measured Pareto front).
        proposals: rank, x, x_lower, x_upper, y, y_lower, y_upper (the 90 % intervals; equal to
            y for a computed property).
        thresholds: The y property's constraint thresholds (none for an objective).
        staircase: The two objectives' directions when the plane holds the whole front (two
            objectives, both drawn), to draw the region it dominates; else None.
        log_x: A log axis for the target (a log-scale model: its intervals are skewed).
    The axes frame the points and the constraint, not the intervals, which may run off the edge.
    """
    x_label, y_label = _plain(x_label), _plain(y_label)
    known = measured[np.isfinite(measured["y"].to_numpy(float))]
    with _figure(5.6, 4.6) as fig:
        ax = fig.add_subplot()
        for threshold in thresholds:
            ax.axhline(threshold, color=RED, ls="--", lw=1.1, zorder=1)
        if len(thresholds):
            ax.plot([], [], color=RED, ls="--", lw=1.1, label="constraint")
        feasible = known["feasible"].to_numpy(bool)
        ax.scatter(known["x"][feasible], known["y"][feasible], s=26, color=BLUE, alpha=0.8, lw=0,
                   label=f"measured, meets the constraints ({int(feasible.sum())})")
        if (~feasible).any():
            ax.scatter(known["x"][~feasible], known["y"][~feasible], s=26, facecolor="none", edgecolor=GREY, lw=1,
                       label=f"measured, breaks a constraint ({int((~feasible).sum())})")
        front = known[known["on_front"].to_numpy(bool)]
        if len(front):
            ax.scatter(front["x"], front["y"], s=90, facecolor="none", edgecolor=GREEN, lw=1.8, zorder=3,
                       label=f"measured Pareto front ({len(front)})")
        if staircase is not None and len(front):
            points = front[["x", "y"]].to_numpy(float)
            points = points[np.argsort(-staircase[0].sign * points[:, 0])]  # best x first: y improves along it
            # the edge of the region the front dominates: a step from each member to the next
            xs, ys = [points[0, 0]], [points[0, 1]]
            for px, py in points[1:]:
                xs += [px, px]
                ys += [ys[-1], py]
            ax.plot(xs, ys, color=GREEN, lw=1.2, zorder=2)
        if len(proposals):
            ax.errorbar(proposals["x"], proposals["y"],
                        xerr=[proposals["x"] - proposals["x_lower"], proposals["x_upper"] - proposals["x"]],
                        yerr=[proposals["y"] - proposals["y_lower"], proposals["y_upper"] - proposals["y"]],
                        fmt="D", ms=6, color=ORANGE, ecolor=ORANGE, elinewidth=1, alpha=0.85, capsize=0, zorder=4,
                        label="proposals (90 % intervals)")
            for rank, px, py in zip(proposals["rank"], proposals["x"], proposals["y"]):
                ax.annotate(str(rank), (px, py), xytext=(5, 4), textcoords="offset points", fontsize=8.5, color=ORANGE)
        if log_x:  # ticks at 1, 2 and 5 per decade, in plain numbers
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: number(value)))
            ax.xaxis.set_minor_formatter(NullFormatter())
        xs = np.r_[known["x"].to_numpy(float), proposals["x"].to_numpy(float)]
        ys = np.r_[known["y"].to_numpy(float), proposals["y"].to_numpy(float), list(thresholds)]
        ax.set(xlim=_framed(xs, log_x), ylim=_framed(ys, False), xlabel=x_label, ylabel=y_label)
        fig.legend(loc="outside lower center", ncols=2, fontsize=8.5)
    return fig


def _framed(values: np.ndarray, log: bool, pad: float = 0.08) -> tuple[float, float]:
    """Axis limits around the finite `values` with a margin (in log space for a log axis)."""
    values = values[np.isfinite(values) & ((values > 0) if log else True)]
    if len(values) == 0:
        return (1.0, 10.0) if log else (0.0, 1.0)
    low, high = (np.log10(values.min()), np.log10(values.max())) if log else (values.min(), values.max())
    margin = pad * (high - low) if high > low else 0.5 if log else max(abs(high) * 0.1, 1.0)
    low, high = low - margin, high + margin
    return (10**low, 10**high) if log else (float(low), float(high))


def progress_figure(measured: pd.DataFrame, direction: Direction, label: str) -> Figure:
    """Measured values per round and the best so far."""
    label = _plain(label)
    rounds = measured["round"].astype(int).to_numpy()
    values = measured["value"].astype(float).to_numpy()
    jitter = np.random.default_rng(0).uniform(-0.12, 0.12, len(values))  # fixed: same picture every render
    per_round = pd.Series(values).groupby(rounds)
    maximise = Direction(direction) is Direction.MAX
    best = per_round.max() if maximise else per_round.min()
    best = best.cummax() if maximise else best.cummin()
    with _figure(10.5, 4.0) as fig:
        ax = fig.add_subplot()
        ax.scatter(rounds + jitter, values, s=22, color=BLUE, alpha=0.6, lw=0, label="measured")
        ax.plot(best.index, best.to_numpy(), color=RED, lw=2, marker="o", ms=5, drawstyle="steps-post", label="best so far")
        ax.set_xticks(best.index, ["seed" if r == 0 else f"round {r}" for r in best.index])
        ax.set(ylabel=label)
        fig.legend(loc="outside lower center", ncols=2)
    return fig


def _shorten(smiles: str, width: int = 26) -> str:
    return _plain(smiles if len(smiles) <= width else smiles[: width - 1] + "…")


def _plain(text: str) -> str:
    """User text for a matplotlib label: `$` escaped so it never switches to mathtext."""
    return str(text).replace("$", r"\$")
