"""Screenshot a round report in headless Chromium, the whole page as one PNG.

    python scripts/screenshot_report.py REPORT.html OUT.png            # an existing report
    python scripts/screenshot_report.py --demo REPORT.html OUT.png     # build the demo report first
    python scripts/screenshot_report.py --demo --fast /tmp/r.html /tmp/r.png   # quick sampler settings

Needs Debian's chromium (`apt-get install -y chromium`). Chromium's --screenshot captures the
window only, so the window is made taller than any report and the empty page bottom is cut off.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from discovery.report.browser import run_headless


def screenshot(report: Path, out: Path, width: int = 1400, max_height: int = 16000) -> Path:
    """Save a full-page PNG of `report` to `out`; returns `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "raw.png"
        try:
            result = run_headless(report, "--hide-scrollbars", "--force-device-scale-factor=1",
                                  f"--window-size={width},{max_height}", f"--screenshot={raw}")
        except RuntimeError as error:
            raise SystemExit(str(error)) from None
        if not raw.exists():
            raise SystemExit(f"Chromium wrote no screenshot (exit {result.returncode}):\n{result.stderr[-2000:]}")
        image = Image.open(raw).convert("RGB")
    pixels = np.asarray(image)
    # rows that differ from the bottom row's colour are page content; keep them and a margin
    content = np.flatnonzero((pixels != pixels[-1, -1]).any(axis=(1, 2)))
    bottom = min(len(pixels), int(content.max()) + 24) if content.size else len(pixels)
    if bottom >= len(pixels):
        print(f"warning: the page may be taller than {max_height} px and was cut; raise --max-height", file=sys.stderr)
    page = image.crop((0, 0, image.width, bottom))
    # a 256-colour palette: a third of the size, no visible loss for text, tables and plots
    page.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(out, optimize=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", type=Path, help="the report HTML (written first with --demo)")
    parser.add_argument("out", type=Path, help="the PNG to write")
    parser.add_argument("--demo", action="store_true", help="build the demo report from a real fit first")
    parser.add_argument("--fast", action="store_true", help="with --demo: small sampler settings (seconds, noisier)")
    parser.add_argument("--width", type=int, default=1400, help="browser window width in px (default 1400)")
    parser.add_argument("--max-height", type=int, default=16000, help="tallest page captured in px (default 16000)")
    args = parser.parse_args(argv)
    if args.demo:
        from discovery.report import render_report
        from discovery.report.demo import build_demo_data

        render_report(build_demo_data(fast=args.fast), args.report)
        print(f"wrote {args.report} ({args.report.stat().st_size / 1e6:.2f} MB)")
    elif not args.report.is_file():
        parser.error(f"{args.report} does not exist (use --demo to build a demo report)")
    out = screenshot(args.report, args.out, args.width, args.max_height)
    with Image.open(out) as image:
        print(f"wrote {out} ({image.width}x{image.height} px, {out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
