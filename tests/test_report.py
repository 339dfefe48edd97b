"""The round report: rendered from a real fitted BayesianILR, then taken apart and checked."""

from __future__ import annotations

import base64
import dataclasses
import io
import re
import time
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from discovery.model import FitDiagnostics
from discovery.objective import Constraint
from discovery.report import FurtherProperty, ReportData, ReportOptions, build_html, observed_coverage, predictive_summary, render_report
from discovery.report.demo import build_demo_data
from discovery.report.format import interval, number, percent
from discovery.report.browser import find_browser, run_headless
from report_html import parse_tables

SECTION_IDS = ["summary", "health", "learned", "proposals", "landscape", "progress"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    data = build_demo_data(fast=True)
    path = render_report(data, tmp_path_factory.mktemp("report") / "round-3" / "report.html")
    return data, path, path.read_text(encoding="utf-8")


def test_report_has_every_section_and_fetches_nothing(demo):
    data, path, html = demo
    assert html.startswith("<!DOCTYPE html>")
    positions = [html.index(f'<section id="{key}">') for key in SECTION_IDS]
    assert positions == sorted(positions)
    # self-contained: no external scripts, styles, images or fonts
    assert not re.search(r'<(script|img|link|iframe)[^>]+(src|href)="(?!data:)', html)
    assert "url(" not in html and "@import" not in html
    assert "polymer_dielectric (demo) · round 3" in html
    # warnings come first, ahead of the summary numbers
    alert = html.index('<div class="alert')
    assert alert < html.index('<div class="cards">')
    assert "Demo data: RDKit descriptors stand in" in html[alert:html.index("</div>", alert)]
    # no temporary file is left beside the report
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]


def test_every_inline_image_decodes(demo):
    data, _, html = demo
    pngs = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    # parity, calibration, last round, forest, landscape, progress
    assert len(pngs) == 6
    for encoded in pngs:
        image = Image.open(io.BytesIO(base64.b64decode(encoded, validate=True)))
        image.load()
        assert image.format == "PNG" and image.width >= 400 and image.height >= 200
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.DOTALL)
    # each proposal and its nearest neighbour, and the best measured polymer
    assert len(svgs) == 2 * len(data.proposals) + 1
    for svg in svgs:
        root = ET.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert any(True for _ in root.iter("{http://www.w3.org/2000/svg}path"))  # bonds were drawn


def test_proposals_table_matches_the_proposals_frame(demo):
    data, _, html = demo
    rows = parse_tables(html)["sortable proposals"]
    expected = data.proposals.sort_values("rank")
    assert len(rows) == len(expected) > 0
    for cells, proposal in zip(rows, expected.itertuples()):
        by_class = {attrs.get("class", "").split()[-1]: (attrs, text) for attrs, text in cells if attrs.get("class")}
        assert cells[0][1] == str(proposal.rank)
        assert cells[2][1].startswith(proposal.candidate_id) and proposal.smiles in cells[2][1]
        for column in ("mean", "acquisition", "similarity", "prob"):
            value = getattr(proposal, {"acquisition": "acquisition_value", "similarity": "nearest_similarity",
                                       "prob": "prob_beat_best"}.get(column, column))
            attrs, text = by_class[column]
            assert float(attrs["data-sort"]) == pytest.approx(value, rel=1e-12)  # sorts on the exact value
            shown = float(text.rstrip(" %").lstrip("<>")) / (100 if column == "prob" else 1)
            assert shown == pytest.approx(value, rel=0.01, abs=0.006)  # shown rounded
        low, high = (float(x) for x in by_class["interval"][1].split(" – "))
        assert low == pytest.approx(proposal.lower_90, rel=0.01) and high == pytest.approx(proposal.upper_90, rel=0.01)
        assert ("outside" in cells[-1][1]) == bool(proposal.outside_domain)


def test_tables_sort_and_show_the_campaign(demo):
    data, _, html = demo
    tables = parse_tables(html)
    progress = tables["sortable compact"]  # the last round's table, then the per-round progress
    assert [row[0][1] for row in progress[-3:]] == ["seed data", "round 1", "round 2"]
    assert progress[-1][3][1] == number(data.measured["value"].max())
    assert "document.querySelectorAll(\"table.sortable\")" in html
    n_active = int(data.coefficients["excludes_zero"].sum())
    assert f"<b>{n_active} active terms</b> of {len(data.coefficients)}" in html


def test_user_text_is_escaped_and_bad_smiles_do_not_crash(demo, tmp_path):
    data, _, _ = demo
    proposals = data.proposals.copy()
    proposals.loc[0, "smiles"] = "C1CC<b>("  # unparsable, and markup
    hostile = dataclasses.replace(
        data, campaign="<script>alert(1)</script>", proposals=proposals, warnings=["featurisation failed for <img src=x>"],
    )
    html = render_report(hostile, tmp_path / "r.html").read_text()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x>" not in html and "C1CC&lt;b&gt;(" in html
    assert "cannot parse SMILES" in html


def test_further_properties_get_their_own_columns_and_are_named_in_the_proposals_lead(demo, tmp_path):
    data, _, _ = demo
    proposals = data.proposals.assign(gap_ev=np.linspace(6.0, 9.5, len(data.proposals)))
    gap = FurtherProperty("gap_ev", "gap_ev >= 6 eV", "eV", constraints=(Constraint("gap_ev", "at_least", 6.0),),
                          measured=pd.Series(7.0, index=data.measured["candidate_id"]))
    weighed = dataclasses.replace(data, proposals=proposals, further=(gap,))
    html = render_report(weighed, tmp_path / "r.html").read_text()
    rows = parse_tables(html)["sortable proposals"]
    expected = proposals.sort_values("rank")["gap_ev"]
    assert [cells[-1][1] for cells in rows] == [number(v) for v in expected]
    assert re.search(r"<th[^>]*>\s*gap_ev\s*</th>", html)
    assert "The batch was chosen on these too" in html and "gap_ev &gt;= 6 eV" in html


def test_several_properties_show_the_front_the_proposals_and_the_binding_constraint(demo, tmp_path):
    data, _, html = demo
    assert 'id="properties"' not in html  # a one-property campaign has no such section
    measured = data.measured.reset_index(drop=True)
    best = data.best_measured
    values = measured["value"].to_numpy(float)
    # the gap constraint rules out the best measured molecule; the boiling point (a second
    # objective, measured for every other molecule) trades off exactly against the target
    gap = pd.Series(np.where(measured["candidate_id"] == best["candidate_id"], 2.0, 7.0), index=measured["candidate_id"])
    known = np.arange(len(measured)) % 2 == 0
    boiling = pd.Series(np.where(known, 600.0 - 10 * values, np.nan), index=measured["candidate_id"])
    q = len(data.proposals)
    proposals = data.proposals.assign(
        gap_ev=np.linspace(6.0, 9.5, q), boiling_point_k=np.linspace(400, 500, q),
        boiling_point_k_lower_90=np.linspace(380, 480, q), boiling_point_k_upper_90=np.linspace(420, 520, q),
        prob_meets_constraints=np.linspace(1.0, 0.6, q), prob_extends_front=np.linspace(0.9, 0.1, q))
    held_out = pd.DataFrame({"smiles": ["C", "CC", "CCC", "CCCC"], "y": [400.0, 410.0, 420.0, 430.0],
                             "mean": [401.0, 409.0, 425.0, 430.0], "pit": [0.4, 0.6, 0.1, 0.5]})
    held_out = held_out.assign(lower_90=held_out["mean"] - 3, upper_90=held_out["mean"] + 3)
    further = (FurtherProperty("boiling_point_k", "boiling_point_k: maximised", "K", direction=data.direction,
                               measured=boiling, modelled=True, health="chains disagree (max R-hat 1.08)",
                               cv=held_out),
               FurtherProperty("gap_ev", "gap_ev >= 6 eV", "eV", constraints=(Constraint("gap_ev", "at_least", 6.0),), measured=gap))
    html = render_report(dataclasses.replace(data, proposals=proposals, further=further), tmp_path / "r.html").read_text()
    section = html[html.index('<section id="properties">'):]
    section = section[:section.index("</section>")]
    assert '<a href="#properties">Several properties</a>' in html
    # every feasible molecule with both objectives known is on the front (an exact trade-off)
    feasible = known & (measured["candidate_id"] != best["candidate_id"]).to_numpy()
    assert f"{int(feasible.sum())} of {len(measured)} measured molecules are on the measured Pareto front" in section
    rows = {cells[0][1]: [text for _, text in cells] for cells in parse_tables(section)["compact"]}
    assert rows["gap ev (eV)"][4] == f"{len(measured) - 1} of {len(measured)}"
    second_best = data.direction.best(values[(measured["candidate_id"] != best["candidate_id"]).to_numpy()])
    assert rows["gap ev (eV)"][6].startswith("yes: the best measured molecule")
    assert rows["gap ev (eV)"][6].endswith(f"the best that meets every constraint has {number(second_best)}")
    # its own model's leave-one-out: errors 1, 1, 5, 0 K, three within the ±3 K intervals
    assert rows["boiling point k (K)"][5] == (f"held out: RMSE {number(np.sqrt(27 / 4))} K, 75 % inside their 90 % "
                                              "intervals (4 molecules); chains disagree (max R-hat 1.08)")
    assert len(re.findall(r'src="data:image/png;base64,', section)) == 2
    assert re.search(r"<th[^>]*>\s*P\(extends front\)\s*</th>", html)


def test_sampler_problems_and_advi_are_flagged_in_plain_language(demo):
    data, _, _ = demo
    troubled = dataclasses.replace(data, diagnostics=FitDiagnostics(
        sampler="NUTS (nutpie)", exact=True, divergences=40, n_draws=400, max_rhat=1.2, min_ess_bulk=30.0,
        warnings=("chains disagree (max R-hat 1.200 > 1.05): run longer",),
    ))
    html = build_html(troubled)
    assert '<div class="alert red"' in html and "<b>Critical:</b> Model sampling: chains disagree" in html
    diagnostics = [[text for _, text in row] for row in parse_tables(html)["diag"]]
    assert diagnostics[1][:3] == ["Largest R-hat", "1.20", "check"]
    assert diagnostics[3][:3] == ["Divergent transitions", "40 of 400", "check"]
    approximate = build_html(dataclasses.replace(
        data, diagnostics=FitDiagnostics(sampler="ADVI (variational approximation)", exact=False, n_draws=400)))
    assert "fast approximation (ADVI" in approximate
    assert len(parse_tables(approximate)["diag"]) == 1


def test_a_100k_pool_gives_a_small_report_that_renders_fast(demo, tmp_path):
    data, _, small = demo
    rng = np.random.default_rng(0)
    mean, half = rng.normal(3.0, 1.0, 100_000), rng.gamma(2.0, 0.7, 100_000)
    pool = pd.DataFrame({"mean": mean, "lower_90": mean - half, "upper_90": mean + half})
    start = time.perf_counter()
    path = render_report(dataclasses.replace(data, pool=pool), tmp_path / "big.html")
    seconds = time.perf_counter() - start
    size = path.stat().st_size
    assert size < 5_000_000
    assert size < len(small.encode()) + 300_000  # the pool is one raster image, whatever its size
    assert seconds < 20
    html = path.read_text()
    assert "100,000 of 100,000" in html or "of 100,000 pool candidates" in html
    assert html.count("<tr") < 100  # tables list proposals and summaries, never the pool


def test_a_first_round_without_history_or_proposals_still_renders(demo):
    data, _, _ = demo
    first = dataclasses.replace(
        data, round=1, measured=data.measured[data.measured["round"] == 0], proposals=data.proposals.iloc[:0],
        cv=None, last_round=None, pool_summary=None, diagnostics=None, warnings=[],
    )
    html = build_html(first)
    assert "No cross-validated predictions" in html and "Last round" not in html
    assert "<b>Critical:</b> No candidates were proposed this round." in html
    assert html.count("data:image/png;base64,") == 3  # forest, landscape, progress


def test_missing_columns_are_named():
    frame = pd.DataFrame({"smiles": ["C"], "value": [1.0], "round": [0], "candidate_id": ["a"]})
    with pytest.raises(ValueError, match=r"proposals lacks columns \['rank'"):
        ReportData("c", 1, "t", "max", frame, pd.DataFrame({"smiles": []}), pd.DataFrame({"mean": [], "lower_90": [], "upper_90": []}),
                   pd.DataFrame(columns=["term", "label", "mean", "lower_5", "upper_95", "excludes_zero"]), {})
    with pytest.raises(ValueError, match="direction"):
        ReportData("c", 1, "t", "up", frame, frame, frame, frame, {})


def test_predictive_summary_gives_calibrated_pit():
    rng = np.random.default_rng(1)
    n, S = 2000, 400
    centre = rng.normal(0, 3, n)
    draws = centre[None, :] + rng.normal(0, 1, (S, n))
    y = centre + rng.normal(0, 1, n)  # drawn from the same predictive: calibrated by construction
    table = predictive_summary([f"m{i}" for i in range(n)], y, draws)
    assert list(table.columns) == ["smiles", "y", "mean", "lower_90", "upper_90", "pit"]
    inside = ((table["y"] >= table["lower_90"]) & (table["y"] <= table["upper_90"])).mean()
    assert inside == pytest.approx(0.9, abs=0.03)
    assert observed_coverage(table["pit"], [0.5, 0.9]) == pytest.approx([0.5, 0.9], abs=0.04)
    weighted = predictive_summary(table["smiles"], y, draws, np.full((S, n), 1.0 / S))
    pd.testing.assert_frame_equal(weighted, table)


def test_options_file_matches_the_defaults():
    assert ReportOptions.from_yaml() == ReportOptions()
    with pytest.raises(ValueError, match="unknown report setting"):
        ReportOptions.from_dict({"top_term": 3})


def test_number_formatting():
    assert number(3.14159) == "3.14" and number(0.012345) == "0.0123" and number(1234.5) == "1234"
    assert number(1.5e6) == "1.50×10⁶" and number(float("nan")) == "–" and number(-0.0) == "0"
    assert percent(0.004) == "<1 %" and percent(0.5) == "50 %" and percent(0.996) == ">99 %"
    assert interval(1.234, 5.678) == "1.23 – 5.68"


CLICK = """<script>
for (const [css, clicks] of %s) {
  const table = document.querySelector("table.proposals");
  const column = [...table.tBodies[0].rows[0].cells].findIndex(cell => cell.classList.contains(css));
  for (let i = 0; i < clicks; i++) table.tHead.rows[0].cells[column].click();
}
</script></body>"""


@pytest.mark.skipif(find_browser() is None, reason="needs a Chromium (Debian: apt-get install -y chromium)")
@pytest.mark.parametrize(("column", "clicks"), [("mean", 1), ("similarity", 2)])
def test_clicking_a_header_sorts_the_proposals_in_a_real_browser(demo, tmp_path, column, clicks):
    _, _, html = demo
    page = tmp_path / "clicked.html"
    page.write_text(html.replace("</body>", CLICK % f'[["{column}", {clicks}]]'), encoding="utf-8")
    result = run_headless(page, "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = parse_tables(result.stdout)["sortable proposals"]
    keys = [float(next(a["data-sort"] for a, _ in cells if column in a.get("class", "").split())) for cells in rows]
    assert len(keys) > 2 and len(set(keys)) > 1
    assert keys == sorted(keys, reverse=clicks == 2)  # first click ascending, second descending
    assert f'data-dir="{"desc" if clicks == 2 else "asc"}"' in result.stdout


def test_pool_counts_and_uncertainty_read_in_the_chemists_words(demo):
    from discovery.pool import PoolSummary
    from discovery.report import figures
    from discovery.report.sections import _pool_summary_rows

    data, _, html = demo
    assert "Accepted into the pool" in html and "Rejected: duplicate" in html
    summary = PoolSummary(kind="polymer", seed=3, seeds_given=45, seeds_used=44, seed_rejections={"radical": 1},
                          proposed=1200, proposed_by_origin={"brics": 700, "mutation": 500}, accepted=1000,
                          accepted_by_origin={"brics": 600, "mutation": 400}, rejected={"duplicate": 200},
                          reached_max_candidates=True).to_dict()
    rows = [(row[0].html, row[1].html) for row in _pool_summary_rows(summary)]
    assert ("Kind of candidates", "polymer repeat units") in rows and ("Stopped at the pool-size limit", "yes") in rows
    assert all(row[1].numeric for row in _pool_summary_rows(summary))  # counts and answers line up on the right
    assert ("  generated by fragment recombination (BRICS)", "700") in rows
    assert not any("_" in label for label, _ in rows)
    assert "Latent SD" not in html and "width of its 90 % interval" in html

    fig = figures.landscape_figure(data.pool, data.proposals, (2.0, 10.0), 10.0, data.target_label, 5000)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and "90 % interval" in ax.get_ylabel()
