"""The report's sections, each a function from `ReportData` to an HTML fragment.

Every piece of user-supplied text (names, SMILES, warnings, term labels) goes through
`html.escape`; drawings and plots are generated here and inlined.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

import numpy as np
import pandas as pd

import discovery.report.figures as figures
from discovery.objective import Direction
from discovery.report.data import FurtherProperty, ReportData, observed_coverage
from discovery.report.format import interval, number, percent
from discovery.report.options import ReportOptions
from discovery.report.structures import structure_svg
from discovery.report.tables import Cell, table, text

SECTIONS = (
    ("summary", "Summary"),
    ("health", "Model health"),
    ("learned", "What the model learned"),
    ("proposals", "Proposals"),
    ("properties", "Several properties"),
    ("landscape", "Pool landscape"),
    ("progress", "Campaign progress"),
)


@dataclass(frozen=True)
class Alert:
    """A message for the box at the top; `critical` ones turn the box red."""

    message: str
    critical: bool = False


def collect_warnings(data: ReportData, options: ReportOptions) -> list[Alert]:
    """Everything that should make the chemist pause, most serious first."""
    d = data.diagnostics
    found = [] if d is None else [Alert(f"Model sampling: {w}", critical=True) for w in d.warnings]
    if d is not None and not d.exact:
        found.append(Alert(
            f"The posterior is a fast approximation ({d.sampler}): there are no convergence checks and its "
            "intervals tend to be too narrow. Rerun with an exact sampler before relying on them."
        ))
    found += [Alert(w) for w in data.warnings]
    if data.proposals.empty:
        found.append(Alert("No candidates were proposed this round.", critical=True))
    flagged = data.proposals[data.proposals["outside_domain"].astype(bool)]
    if not flagged.empty:
        ranks = ", ".join(str(r) for r in flagged["rank"])
        found.append(Alert(
            f"{len(flagged)} of {len(data.proposals)} proposals lie far outside the training domain "
            f"(rank {ranks}): their predictions are extrapolations, so treat their intervals as optimistic."
        ))
    if data.cv is not None and len(data.cv) >= 5:
        coverage = float(observed_coverage(data.cv["pit"].to_numpy(), [0.9])[0])
        if coverage < 0.9 - figures.Z90 * math.sqrt(0.09 / len(data.cv)):
            found.append(Alert(
                f"Cross-validated 90 % intervals contained only {percent(coverage)} of the measured values: "
                "the model's intervals are too narrow."
            ))
    if data.last_round is not None and len(data.last_round) >= 3:
        last = data.last_round
        inside = ((last["measured"] >= last["lower_90"]) & (last["measured"] <= last["upper_90"])).mean()
        if inside < 0.5:
            found.append(Alert(
                f"Only {percent(inside)} of last round's measured values fell inside their predicted 90 % intervals."
            ))
    return sorted(found, key=lambda w: not w.critical)


def header(data: ReportData) -> str:
    better = "higher is better" if data.direction is Direction.MAX else "lower is better"
    return (
        f'<header class="top"><div class="wrap"><div class="eyebrow">Discovery campaign report</div>'
        f"<h1>{escape(data.campaign)} · round {data.round}</h1>"
        f'<div class="sub">Target: <b>{escape(data.target_label)}</b> ({better}) · model: {escape(data.model_name)}</div>'
        f"</div></header>"
    )


def navigation(shown: list[tuple[str, str]] | None = None) -> str:
    """Links to the sections shown (default: all of `SECTIONS`)."""
    links = "".join(f'<a href="#{key}">{escape(title)}</a>' for key, title in (SECTIONS if shown is None else shown))
    return f'<nav><div class="wrap">{links}</div></nav>'


def warnings_box(warnings: list[Alert]) -> str:
    if not warnings:
        return '<div class="alert ok"><b>No warnings.</b> Sampler diagnostics and checks below are within their limits.</div>'
    level = "red" if any(w.critical for w in warnings) else "amber"
    title = "Check before sending to the lab" if level == "red" else "Points to consider"
    items = "".join(
        f'<li>{"<b>Critical:</b> " if w.critical else ""}{escape(w.message)}</li>' for w in warnings
    )
    return f'<div class="alert {level}" role="alert"><b>{title}</b><ul>{items}</ul></div>'


def summary(data: ReportData, options: ReportOptions) -> str:
    measured = data.measured
    n_seed = int((measured["round"] == 0).sum())
    best = data.best_measured
    cards = [_card("Measured", f"{len(measured)}", f"{n_seed} seed + {len(measured) - n_seed} from the campaign")]
    if best is not None:
        where = "seed data" if int(best["round"]) == 0 else f"round {int(best['round'])}"
        name = escape(str(best["name"])) + "<br>" if "name" in best.index and isinstance(best["name"], str) else ""
        cards.append(_card(
            "Best so far", number(best["value"]), f'{name}<span class="smiles">{escape(str(best["smiles"]))}</span> ({where})',
            structure_svg(str(best["smiles"]), options.neighbour_width, options.neighbour_height),
        ))
    proposals = data.proposals
    cards.append(_card("Proposed", f"{len(proposals)}", f"{int(proposals['outside_domain'].astype(bool).sum())} outside the training domain"))
    if not proposals.empty:
        expected = float(proposals["prob_beat_best"].sum())
        cards.append(_card("Expected to beat best", number(expected, 2), "sum of P(beats best) over the proposals"))
    n_active = int(data.coefficients["excludes_zero"].astype(bool).sum())
    cards.append(_card("Active terms", f"{n_active}", f"of {len(data.coefficients)} with a 90 % interval excluding zero"))

    lead = ""
    if not proposals.empty:
        top = proposals.sort_values("rank").iloc[0]
        lead = (
            f"<p class=\"lead\">The top proposal, <span class=\"smiles\">{escape(str(top['smiles']))}</span>, is predicted "
            f"at <b>{number(top['mean'])}</b> (90 % interval {interval(top['lower_90'], top['upper_90'])}), with a "
            f"{percent(top['prob_beat_best'])} chance of beating the best measured value.</p>"
        )
    return f'<div class="cards">{"".join(cards)}</div>{lead}'


def model_health(data: ReportData, options: ReportOptions) -> str:
    parts = [table(["Check", "Value", "Status", "What it means"], _diagnostic_rows(data, options), sortable=False, css="diag")]
    calibration = None if data.diagnostics is None else data.diagnostics.calibration
    if calibration is not None and calibration.applied:
        parts.append(
            '<p class="note">Extrapolation rehearsal: the most extreme measured values were held out and predicted '
            "from the rest. From it the model learned how far to widen its intervals: the posterior spread of every "
            f"prediction is stretched <b>{number(calibration.epistemic_inflation)}×</b>, and a model error of "
            f"<b>{number(calibration.model_error_constant)} + "
            f"{number(calibration.model_error_per_distance)} × distance beyond the measured range</b> "
            f"(standard deviation, in {escape(data.scale_label)}) is added "
            "(before this, the held-out 90 % intervals covered "
            f"{percent(calibration.held_out_coverage_before)}). The stretch widens the intervals shown here; "
            "the batch was chosen on the unstretched posterior, because as an exploration bonus the stretch "
            "over-explores.</p>"
        )
    dpi = options.figure_dpi
    if data.cv is not None and not data.cv.empty:
        parts.append(
            '<div class="grid2">'
            + _figure(figures.parity_figure(data.cv, data.target_label), dpi, "Parity plot of cross-validated predictions",
                      "Each measured molecule predicted by a model that did not see it; bars are 90 % intervals. "
                      "Points should scatter around the dashed line, about 9 in 10 bars crossing it.")
            + _figure(figures.calibration_figure(data.cv), dpi, "Calibration curve",
                      "How often measured values fall inside the model's intervals, for intervals of every width. "
                      "A well-calibrated model follows the dashed line within the grey band.")
            + "</div>"
        )
    else:
        parts.append('<p class="note">No cross-validated predictions were supplied for this round.</p>')
    if data.last_round is not None and not data.last_round.empty:
        parts.append(_last_round(data, options))
    return "".join(parts)


def learned(data: ReportData, options: ReportOptions) -> str:
    coefficients = data.coefficients
    n_active = int(coefficients["excludes_zero"].astype(bool).sum())
    top = coefficients.head(options.top_terms)
    intro = (
        f'<p class="lead"><b>{n_active} active terms</b> of {len(coefficients)}: terms whose 90 % interval excludes zero. '
        f"Showing the {len(top)} strongest. Effects are in {escape(data.scale_label)}: a descriptor's per standard "
        "deviation of it over the measured molecules; “A × B”, how much that effect of descriptor A changes where the "
        "molecule has feature B; a feature alone, the shift where the molecule has it.</p>"
    )
    if top.empty:
        return intro
    rows = [
        [
            text(row.label),
            Cell(number(row.mean), row.mean, numeric=True),
            Cell(interval(row.lower_5, row.upper_95), row.lower_5, numeric=True),
            Cell("yes" if row.excludes_zero else "no", int(bool(row.excludes_zero))),
            Cell(f'<span class="smiles">{escape(str(row.term))}</span>', str(row.term)),
        ]
        for row in top.itertuples()
    ]
    plot = _figure(figures.forest_figure(top, data.scale_label), options.figure_dpi, "Forest plot of the strongest terms",
                   "Dot: posterior mean; bar: 90 % interval. Blue terms are active (interval excludes zero), grey ones "
                   "are shrunk towards zero by the sparsity prior.")
    details = table(["Term", "Effect (mean)", "90 % interval", "Active", "Column"], rows)
    return intro + plot + f"<details><summary>Numbers for these terms</summary>{details}</details>"


def proposals(data: ReportData, options: ReportOptions) -> str:
    if data.proposals.empty:
        return '<p class="note">No proposals this round.</p>'
    rows, classes = [], []
    further = [p.name for p in data.further if p.name in data.proposals.columns]
    chances = [(column, title) for column, title in (("prob_meets_constraints", "P(meets constraints)"),
                                                      ("prob_extends_front", "P(extends front)"))
               if column in data.proposals.columns]
    for row in data.proposals.sort_values("rank").itertuples():
        flagged = bool(row.outside_domain)
        # the interval sorts by its optimistic end: the upper bound when maximising
        optimistic = row.upper_90 if data.direction is Direction.MAX else row.lower_90
        rows.append([
            Cell(str(row.rank), int(row.rank), numeric=True),
            Cell(structure_svg(str(row.smiles), options.structure_width, options.structure_height), css="drawing"),
            Cell(f'<b>{escape(str(row.candidate_id))}</b><div class="smiles">{escape(str(row.smiles))}</div>', str(row.candidate_id)),
            Cell(number(row.mean), row.mean, numeric=True, css="mean"),
            Cell(interval(row.lower_90, row.upper_90), optimistic, numeric=True, css="interval"),
            Cell(percent(row.prob_beat_best), row.prob_beat_best, numeric=True, css="prob"),
            Cell("–" if row.prob_feasible != row.prob_feasible else percent(row.prob_feasible),
                 -1.0 if row.prob_feasible != row.prob_feasible else row.prob_feasible, numeric=True, css="feasible"),
            Cell(number(row.acquisition_value), row.acquisition_value, numeric=True, css="acquisition"),
            Cell(
                structure_svg(str(row.nearest_measured_smiles), options.neighbour_width, options.neighbour_height)
                + f'<div class="smiles">{escape(str(row.nearest_measured_smiles))}</div>',
                str(row.nearest_measured_smiles), css="drawing neighbour",
            ),
            Cell(f"{row.nearest_similarity:.2f}", row.nearest_similarity, numeric=True, css="similarity"),
            Cell('<span class="badge amber">outside</span>' if flagged else '<span class="badge ok">inside</span>',
                 int(flagged)),
            *[Cell(percent(getattr(row, column)), getattr(row, column), numeric=True) for column, _ in chances],
            *[Cell(_further_value(row, p), getattr(row, p.name), numeric=True) for p in data.further
              if p.name in data.proposals.columns],
        ])
        classes.append("flag" if flagged else "")
    better = "above" if data.direction is Direction.MAX else "below"
    weighed = ""
    if further:
        weighed = ("The batch was chosen on these too: "
                   + "; ".join(f"<b>{escape(p.description)}</b>" for p in data.further)
                   + "; their values (computed) or predictions with 90 % intervals (measured by the lab) are the "
                   "last columns. ")
    if chances:
        weighed += ("<b>P(meets constraints)</b> is the probability that a candidate meets every constraint; "
                    "<b>P(extends front)</b> that it also extends the measured Pareto front on its own "
                    "(see Several properties). ")
    return (
        f'<p class="lead">Ranked by the acquisition function; predictions are {escape(data.target_label)}. '
        "Click a column header to sort. "
        f"<b>P(beats best)</b> is the posterior probability that the true value lies {better} the best measured one; "
        "<b>P(feasible)</b> is the chance the lab can make and measure it, learned from failed experiments "
        "(– until enough have failed); "
        "<b>similarity</b> is the Tanimoto similarity to the closest measured molecule (1 = identical). "
        f"{weighed}</p>"
        + '<div class="scroll">'
        + table(
            ["Rank", "Structure", "Candidate", "Predicted", "90 % interval", "P(beats best)", "P(feasible)",
             "Acquisition", "Nearest measured", "Similarity", "Domain", *[title for _, title in chances], *further],
            rows, row_classes=classes, css="proposals",
        )
        + "</div>"
    )


def _further_value(row, prop: FurtherProperty) -> str:
    """A further property's cell: its value, or its prediction with the 90 % interval."""
    value = getattr(row, prop.name)
    if not prop.modelled:
        return number(value)
    lower, upper = getattr(row, f"{prop.name}_lower_90"), getattr(row, f"{prop.name}_upper_90")
    return f'{number(value)}<div class="smiles">{interval(lower, upper)}</div>'


def several_properties(data: ReportData, options: ReportOptions) -> str | None:
    """The measured Pareto front and the proposals on it, each further property's model and
    whether each constraint binds; None for a campaign of one property."""
    if not data.further:
        return None
    measured = data.measured.reset_index(drop=True)
    ids = measured["candidate_id"]
    values = {p.name: p.measured.reindex(ids).to_numpy(float) for p in data.further}
    feasible = np.ones(len(measured), dtype=bool)
    for prop in data.further:
        feasible &= prop.meets(values[prop.name])
    target = measured["value"].to_numpy(float)
    objectives = [(target, data.direction)] + [(values[p.name], p.direction) for p in data.further if not p.is_constraint]
    on_front = _front(np.column_stack([v * d.sign for v, d in objectives]), feasible)
    objective_names = [data.target_label] + [p.label for p in data.further if not p.is_constraint]
    constraints = [p.description for p in data.further if p.is_constraint]
    lead = (f'<p class="lead">The batch was chosen on {len(objectives)} objective{"s" if len(objectives) > 1 else ""} '
            f'({escape(", ".join(objective_names))})'
            + (f" subject to {escape('; '.join(constraints))}" if constraints else "")
            + f". {int(on_front.sum())} of {len(measured)} measured molecules are on the measured Pareto front: they "
            "meet every constraint and no other measured molecule that does is at least as good on every objective. "
            f"{int(feasible.sum())} meet every constraint.</p>")

    best = data.best_measured
    rows = []
    for prop in data.further:
        known = np.isfinite(values[prop.name])
        role = (f"objective, {'maximised' if prop.direction is Direction.MAX else 'minimised'}" if not prop.is_constraint
                else "constraint: " + prop.description)
        source = "measured by the lab, a model of its own" if prop.modelled else "computed for every candidate"
        health = ("–" if not prop.modelled else prop.health or "no sampler warnings")
        if prop.cv is not None and len(prop.cv):
            cv = prop.cv
            rmse = float(np.sqrt(np.mean((cv["y"] - cv["mean"]) ** 2)))
            inside = float(np.mean((cv["y"] >= cv["lower_90"]) & (cv["y"] <= cv["upper_90"])))
            unit = f" {prop.unit}" if prop.unit else ""
            health = (f"held out: RMSE {number(rmse)}{unit}, {percent(inside)} inside their 90 % intervals "
                      f"({len(cv)} molecules); {health}")
        meets = "–"
        if prop.is_constraint and known.any():
            meets = f"{int(prop.meets(values[prop.name]).sum())} of {int(known.sum())}"
        rows.append([Cell(escape(prop.label), prop.name), Cell(escape(role), role), Cell(source, source),
                     Cell(f"{int(known.sum())} of {len(measured)}", int(known.sum()), numeric=True),
                     Cell(meets, meets), Cell(escape(health), health),
                     Cell(_binding(prop, best, measured, values[prop.name], feasible, target, data), "")])
    parts = [lead, table(["Property", "Role", "Source", "Known for", "Meeting it", "Model health", "Binding?"], rows,
                         sortable=False, css="compact")]

    proposals = data.proposals.sort_values("rank")
    plots = []
    for prop in data.further[:4]:
        y = proposals[prop.name].to_numpy(float) if prop.name in proposals.columns else np.full(len(proposals), np.nan)
        y_lower = proposals.get(f"{prop.name}_lower_90", pd.Series(y, index=proposals.index)).to_numpy(float)
        y_upper = proposals.get(f"{prop.name}_upper_90", pd.Series(y, index=proposals.index)).to_numpy(float)
        drawn = pd.DataFrame({"rank": proposals["rank"].to_numpy(), "x": proposals["mean"].to_numpy(float),
                              "x_lower": proposals["lower_90"].to_numpy(float),
                              "x_upper": proposals["upper_90"].to_numpy(float), "y": y, "y_lower": y_lower,
                              "y_upper": y_upper}).dropna(subset=["y"])
        staircase = (data.direction, prop.direction) if len(objectives) == 2 and not prop.is_constraint else None
        figure = figures.properties_figure(
            pd.DataFrame({"x": target, "y": values[prop.name], "feasible": feasible, "on_front": on_front}), drawn,
            data.target_label, prop.label, [c.threshold for c in prop.constraints], staircase, log_x=data.model_scale is not None)
        plots.append(_figure(figure, options.figure_dpi, f"{data.target_label} against {prop.label}",
                             f"Measured molecules and this round's proposals by {data.target_label} and {prop.label}; "
                             "circled: the measured Pareto front. Bars are 90 % intervals of a new measurement."))
    parts.append('<div class="grid2">' + "".join(plots) + "</div>")
    return "".join(parts)


def _front(oriented: np.ndarray, feasible: np.ndarray) -> np.ndarray:
    """Which rows are on the Pareto front of the feasible rows with every objective known
    (`oriented`: (n, k), larger is better)."""
    candidates = feasible & np.isfinite(oriented).all(axis=1)
    on = np.zeros(len(oriented), dtype=bool)
    points = oriented[candidates]
    for i, row in zip(np.flatnonzero(candidates), points):
        on[i] = not ((points >= row).all(axis=1) & (points > row).any(axis=1)).any()
    return on


def _binding(prop: FurtherProperty, best, measured: pd.DataFrame, values: np.ndarray, feasible: np.ndarray,
             target: np.ndarray, data: ReportData) -> str:
    """Whether the constraint keeps the campaign from its best measured molecule, in words."""
    if not prop.is_constraint or best is None:
        return "–"
    at = int(np.flatnonzero(measured["candidate_id"].to_numpy() == best["candidate_id"])[0])
    if not np.isfinite(values[at]):
        return f"unknown: the best measured molecule ({escape(str(best['candidate_id']))}) has no value"
    if prop.meets(values[at : at + 1])[0]:
        return "no: the best measured molecule meets it"
    text = (f"<b>yes</b>: the best measured molecule ({escape(str(best['candidate_id']))}, {number(best['value'])}) "
            f"has {number(values[at])}")
    if feasible.any():
        best_feasible = data.direction.best(target[feasible])
        text += f"; the best that meets every constraint has {number(best_feasible)}"
    return text


def landscape(data: ReportData, options: ReportOptions) -> str:
    measured = data.measured["value"].astype(float)
    finite = np.isfinite(data.pool[["mean", "lower_90", "upper_90"]].astype(float)).all(axis=1)
    pool = data.pool[finite]  # a candidate whose prediction failed has no place on the map
    if pool.empty:
        return '<p class="note">The candidate pool is empty.</p>'
    side = "right" if data.direction is Direction.MAX else "left"
    best = data.best_measured
    best_value = None if best is None else float(best["value"])
    plot = _figure(
        figures.landscape_figure(pool, data.proposals, (float(measured.min()), float(measured.max())),
                                 best_value, data.target_label, options.max_pool_points_scatter),
        options.figure_dpi, "Pool landscape",
        f"Every pool candidate by predicted value and the width of its 90 % interval (log scale). Candidates {side} "
        "of the green band are predicted beyond anything measured; wide intervals mean the model has little data there.",
    )
    facts = ""
    if best_value is not None:
        beyond = data.direction.is_better(pool["mean"], best_value)
        facts = (f'<p class="lead">{int(beyond.sum()):,} of {len(pool):,} pool candidates ({percent(beyond.mean())}) are '
                 "predicted to beat the best measured value on their mean.</p>")
    counts = ""
    if data.pool_summary:
        counts = '<h3>How the pool was built</h3>' + table(["Step", "Candidates"], _pool_summary_rows(data.pool_summary),
                                                          sortable=False, css="compact")
    return facts + plot + counts


def progress(data: ReportData, options: ReportOptions) -> str:
    measured = data.measured
    plot = _figure(figures.progress_figure(measured, data.direction, data.target_label), options.figure_dpi,
                   "Campaign progress", "Each dot is one measured molecule; the red line is the best value so far.")
    pick = max if data.direction is Direction.MAX else min
    rows, best_so_far = [], None
    for round_, group in measured.groupby(measured["round"].astype(int)):
        best_here = pick(group["value"].astype(float))
        best_so_far = best_here if best_so_far is None else pick(best_so_far, best_here)
        rows.append([
            Cell("seed data" if round_ == 0 else f"round {round_}", round_),
            Cell(str(len(group)), len(group), numeric=True),
            Cell(number(best_here), best_here, numeric=True),
            Cell(number(best_so_far), best_so_far, numeric=True),
        ])
    return plot + table(["Round", "Measured", "Best in round", "Best so far"], rows, css="compact") + _failed(data)


def _failed(data: ReportData) -> str:
    """The failed experiments: never proposed again, and what the feasibility model made of them."""
    if data.failed is None or data.failed.empty:
        return ""
    rows = [[
        Cell(escape(str(r.candidate_id)), str(r.candidate_id)),
        Cell(f'<span class="smiles">{escape(str(r.smiles))}</span>', str(r.smiles)),
        Cell(escape(str(r.reason)), str(r.reason)),
        Cell("seed data" if int(r.round) == 0 else f"round {int(r.round)}", int(r.round)),
    ] for r in data.failed.itertuples()]
    return (f"<h3>Failed experiments ({len(rows)})</h3><p class=\"lead\">These molecules could not be made or "
            f"measured; they are never proposed again. {escape(data.feasibility_note)}</p>"
            + table(["Candidate", "SMILES", "Reason", "Round"], rows, css="compact"))


def glossary() -> str:
    return (
        '<footer class="wrap"><h3>Reading this report</h3><dl>'
        "<dt>90 % interval</dt><dd>The model gives 9-in-10 odds that a new measurement lands inside it (the calibration "
        "curve shows whether that held for past data).</dd>"
        "<dt>Interval width</dt><dd>How far apart the ends of a 90 % interval are, in the property's units: the "
        "model's uncertainty about a new measurement.</dd>"
        "<dt>Acquisition</dt><dd>The score used to rank candidates; it rewards both a good predicted value and "
        "uncertainty that could turn out favourable.</dd>"
        "<dt>R-hat, ESS, divergences</dt><dd>Checks that the posterior sampler explored the model properly; when they "
        "fail, every number in this report is less reliable.</dd></dl></footer>"
    )


# -- helpers ------------------------------------------------------------------------------------
def _card(title: str, value: str, detail: str, drawing: str = "") -> str:
    return (f'<div class="card"><div class="k">{escape(title)}</div><div class="v">{value}</div>'
            f'<div class="d">{detail}</div>{drawing}</div>')


def _figure(fig: figures.Figure, dpi: int, alt: str, caption: str) -> str:
    return (f'<figure><img src="{figures.to_data_uri(fig, dpi)}" alt="{escape(alt)}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def _status(ok: bool | None) -> Cell:
    if ok is None:
        return Cell('<span class="badge amber">n/a</span>')
    return Cell('<span class="badge ok">ok</span>' if ok else '<span class="badge red">check</span>')


def _diagnostic_rows(data: ReportData, options: ReportOptions) -> list[list[Cell]]:
    if data.diagnostics is None:
        return [[text("Sampler"), text("none"), _status(None),
                 text("This model has no posterior sample to check; its intervals come from cross-validation.")]]
    return [[text(check.name), text(check.value if isinstance(check.value, str) else number(check.value, 3)),
             _status(check.ok), text(check.meaning)] for check in data.diagnostics.checks()]


def _last_round(data: ReportData, options: ReportOptions) -> str:
    last = data.last_round
    assert last is not None
    previous = data.measured[data.measured["round"].astype(int) < data.round - 1]["value"].astype(float)
    best_before = None if previous.empty else data.direction.best(previous)
    inside = (last["measured"] >= last["lower_90"]) & (last["measured"] <= last["upper_90"])
    rows = [
        [
            Cell(f'<span class="smiles">{escape(str(row.smiles))}</span>', str(row.smiles)),
            Cell(number(row.mean), row.mean, numeric=True),
            Cell(interval(row.lower_90, row.upper_90), row.lower_90, numeric=True),
            Cell(number(row.measured), row.measured, numeric=True),
            Cell(number(row.measured - row.mean), row.measured - row.mean, numeric=True),
            Cell('<span class="badge ok">inside</span>' if ok else '<span class="badge red">outside</span>', int(ok)),
        ]
        for row, ok in zip(last.itertuples(), inside)
    ]
    plot = _figure(figures.last_round_figure(last, data.target_label, best_before), options.figure_dpi,
                   "Last round's predictions against the lab's measurements",
                   "Shaded bar: the 90 % interval predicted last round; diamond: the measured value "
                   "(green inside the interval, red outside).")
    return (
        f"<h3>Last round: predictions against the lab</h3><p class=\"lead\">{int(inside.sum())} of {len(last)} measured "
        f"values fell inside the 90 % interval predicted before the measurement.</p>"
        + plot
        + table(["Candidate", "Predicted", "90 % interval", "Measured", "Error", "Interval"], rows, css="compact")
    )


#: How the pool summary's counts read to a chemist (`discovery.pool.PoolSummary`).
_POOL_STEPS = {
    "kind": "Kind of candidates",
    "seed": "Random seed of the generation",
    "seeds_given": "Starting structures given (measured, and any the campaign lists)",
    "seeds_used": "Starting structures used",
    "seed_rejections": "Starting structure left out: {}",
    "proposed": "Structures generated",
    "proposed_by_origin": "  generated by {}",
    "accepted": "Accepted into the pool",
    "accepted_by_origin": "  accepted from {}",
    "rejected": "Rejected: {}",
    "generator_failures": "Edits that gave no valid structure, by {}",
    "reached_max_candidates": "Stopped at the pool-size limit",
}
#: The screening funnel's counts (`discovery.acquisition.screening.Screening.summary`).
_SCREENING_STEPS = {
    "screened": "Candidates screened without quantum chemistry, by {}",
    "kept": "Shortlisted for GFN2-xTB and the model",
    "kept_by_rank": "  for their chance of beating the best measured value",
    "kept_at_random": "  at random from the rest (so the screen's blind spots still get judged)",
}
_SCREENING_METHODS = {"fingerprint_gp": "a Gaussian process on Morgan fingerprints"}
_ORIGINS = {"mutation": "substituent and chain edits", "brics": "fragment recombination (BRICS)",
            "library": "the library file", "selfies": "SELFIES edits"}
_KINDS = {"molecule": "small molecules", "polymer": "polymer repeat units"}


def _pool_summary_rows(summary: dict) -> list[list[Cell]]:
    rows = []
    for key, value in summary.items():
        label = _POOL_STEPS.get(key, key.replace("_", " "))
        if key == "screening" and isinstance(value, dict):
            method = _SCREENING_METHODS.get(str(value.get("method")), str(value.get("method")))
            rows += [[text(label.format(method)), _count(value[name])] for name, label in _SCREENING_STEPS.items()
                     if name in value]
        elif isinstance(value, dict):
            rows += [[text(label.format(_ORIGINS.get(name, name))), _count(count)] for name, count in value.items()]
        elif isinstance(value, bool):
            rows.append([text(label), Cell("yes" if value else "no", numeric=True)])
        else:
            rows.append([text(label), _count(_KINDS.get(value, value) if isinstance(value, str) else value)])
    return rows


def _count(value: object) -> Cell:
    return Cell(f"{value:,}" if isinstance(value, int | np.integer) else escape(str(value)), numeric=True)
