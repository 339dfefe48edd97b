"""The per-round HTML uncertainty report a chemist reviews before proposals go to the lab.

`render_report(ReportData(...), "report.html")` writes one self-contained file: plots as inline
PNG, structures as inline SVG, a few lines of inline JS to sort tables; nothing is fetched.
"""

from discovery.report.data import FurtherProperty, ReportData, loo_summary, observed_coverage, predictive_summary
from discovery.report.options import ReportOptions
from discovery.report.render import build_html, render_report

__all__ = ["FurtherProperty", "ReportData", "ReportOptions", "build_html", "loo_summary", "observed_coverage", "predictive_summary", "render_report"]
