"""`render_report`: one self-contained HTML file per round (inline CSS, JS, PNG and SVG; no network)."""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from pathlib import Path

import discovery.report.sections as sections
from discovery import __version__
from discovery.files import atomic_write_text
from discovery.report.data import ReportData
from discovery.report.options import ReportOptions

CSS = """
:root { --ink: #1a202c; --muted: #5a6472; --line: #e2e6ea; --bg: #f5f6f8; --blue: #2b6cb0;
  --amber: #b7791f; --amber-bg: #fff8e6; --red: #c53030; --red-bg: #fff1f1; --green: #2f855a; --green-bg: #f0fff4; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: var(--bg); }
.wrap { max-width: 1240px; margin: 0 auto; padding: 0 24px; }
header.top { background: #1f2a37; color: #fff; padding: 20px 0 16px; }
header.top h1 { margin: 2px 0 4px; font-size: 26px; font-weight: 650; }
header.top .eyebrow { text-transform: uppercase; letter-spacing: .08em; font-size: 12px; color: #a9b4c2; }
header.top .sub { color: #d5dbe3; }
nav { background: #fff; border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 2; }
nav a { display: inline-block; padding: 10px 14px 9px 0; margin-right: 10px; color: var(--blue); text-decoration: none; font-weight: 550; }
nav a:hover { text-decoration: underline; }
main { padding-top: 18px; padding-bottom: 24px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 18px 24px 22px; margin: 0 0 20px; }
h2 { font-size: 21px; margin: 0 0 12px; }
h3 { font-size: 16.5px; margin: 22px 0 8px; }
p.lead { margin: 6px 0 14px; max-width: 980px; }
p.note { color: var(--muted); margin: 10px 0; }
.alert { border-left: 6px solid; border-radius: 8px; padding: 12px 18px; margin: 0 0 20px; }
.alert ul { margin: 6px 0 0; padding-left: 20px; } .alert li { margin: 3px 0; }
.alert.red { background: var(--red-bg); border-color: var(--red); }
.alert.amber { background: var(--amber-bg); border-color: var(--amber); }
.alert.ok { background: var(--green-bg); border-color: var(--green); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 12px; margin-bottom: 6px; align-items: start; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .k { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .05em; }
.card .v { font-size: 26px; font-weight: 650; line-height: 1.25; }
.card .d { font-size: 13px; color: var(--muted); }
.card svg { display: block; margin-top: 4px; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; align-items: start; }
@media (max-width: 900px) { .grid2 { grid-template-columns: 1fr; } }
figure { margin: 12px 0; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 13.5px; margin-top: 4px; max-width: 760px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; margin: 8px 0; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: middle; }
th { background: #f0f2f5; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th:hover { background: #e4e8ee; }
table.sortable th[data-dir=asc]::after { content: " ▲"; } table.sortable th[data-dir=desc]::after { content: " ▼"; }
table.compact { width: auto; min-width: 380px; }
table.compact .smiles { max-width: 520px; }
table.diag td:last-child { color: var(--muted); }
table.proposals td.drawing { padding: 2px 6px; }
.scroll { overflow-x: auto; }
table.proposals td.neighbour .smiles { max-width: 150px; }
table.proposals .smiles { max-width: 190px; }
tr.flag { background: var(--amber-bg); }
.smiles { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; font-size: 12.5px; color: #4a5260;
  word-break: break-all; max-width: 240px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12.5px; font-weight: 600; white-space: nowrap; }
.badge.ok { background: var(--green-bg); color: var(--green); border: 1px solid #b7e4c7; }
.badge.amber { background: var(--amber-bg); color: #8a5a12; border: 1px solid #f1d39b; }
.badge.red { background: var(--red-bg); color: var(--red); border: 1px solid #f3b5b5; }
details { margin-top: 8px; } summary { cursor: pointer; color: var(--blue); font-weight: 550; }
footer { color: var(--muted); font-size: 13.5px; padding-bottom: 30px; }
footer dt { font-weight: 600; color: var(--ink); } footer dd { margin: 0 0 6px; }
@media print { nav { display: none; } section { break-inside: avoid; } }
"""

# Click a header to sort its column; cells carry the raw value in data-sort.
SCRIPT = """
document.querySelectorAll("table.sortable").forEach(table => {
  table.querySelectorAll("th").forEach((th, column) => th.addEventListener("click", () => {
    const ascending = th.dataset.dir !== "asc";
    table.querySelectorAll("th").forEach(h => delete h.dataset.dir);
    th.dataset.dir = ascending ? "asc" : "desc";
    const key = row => { const cell = row.cells[column]; return cell.dataset.sort ?? cell.textContent.trim(); };
    const rows = [...table.tBodies[0].rows].sort((a, b) => {
      const x = key(a), y = key(b), nx = parseFloat(x), ny = parseFloat(y);
      const order = isNaN(nx) || isNaN(ny) ? x.localeCompare(y) : nx - ny;
      return ascending ? order : -order;
    });
    rows.forEach(row => table.tBodies[0].appendChild(row));
  }));
});
"""


def build_html(data: ReportData, options: ReportOptions | None = None) -> str:
    """The report as one HTML string."""
    options = options or ReportOptions()
    content = {
        "summary": sections.warnings_box(sections.collect_warnings(data, options)) + sections.summary(data, options),
        "health": sections.model_health(data, options),
        "learned": sections.learned(data, options),
        "proposals": sections.proposals(data, options),
        "properties": sections.several_properties(data, options),
        "landscape": sections.landscape(data, options),
        "progress": sections.progress(data, options),
    }
    shown = [(key, title) for key, title in sections.SECTIONS if content[key] is not None]
    body = "".join(f'<section id="{key}"><h2>{escape(title)}</h2>{content[key]}</section>' for key, title in shown)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(data.campaign)} · round {data.round} · discovery report</title>"
        f"<style>{CSS}</style></head><body>"
        f"{sections.header(data)}{sections.navigation(shown)}"
        f'<main class="wrap">{body}</main>'
        f"{sections.glossary()}"
        f'<p class="wrap" style="color:#8a93a0;font-size:12px">Generated {stamp} by discovery {escape(__version__)}.</p>'
        f"<script>{SCRIPT}</script></body></html>\n"
    )


def render_report(data: ReportData, path: str | Path, options: ReportOptions | None = None) -> Path:
    """Write the report to `path` atomically: a crash or a reader opening it mid-write never
    sees half a report. Returns the path."""
    return atomic_write_text(path, build_html(data, options))
