"""Headless Chromium for looking at a report the way a chemist does: screenshots and page checks.

Needs a Chromium on PATH (Debian: `apt-get install -y chromium`); nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    """Path of the first Chromium found on PATH, or None."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def run_headless(page: Path, *flags: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Open `page` in headless Chromium with extra `flags` (e.g. --dump-dom, --screenshot=...),
    in a throw-away profile. Raises RuntimeError when no Chromium is installed."""
    browser = find_browser()
    if browser is None:
        raise RuntimeError("no Chromium found: install it with `apt-get install -y chromium`")
    with tempfile.TemporaryDirectory() as profile:
        command = [browser, "--headless", "--disable-gpu", "--no-first-run", f"--user-data-dir={profile}", *flags,
                   page.resolve().as_uri()]
        if os.geteuid() == 0:  # Chromium refuses to run as root with its sandbox on
            command.insert(1, "--no-sandbox")
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout)
