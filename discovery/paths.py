"""Where input files are found."""

from __future__ import annotations

from pathlib import Path

#: The source checkout (holds `campaigns/` with the shipped seed data).
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def resolve_input_file(path: str | Path, what: str) -> Path:
    """An existing file: absolute paths as given; relative ones against the working directory
    first, then the project checkout (so shipped campaign data is found from anywhere).

    Raises:
        FileNotFoundError: "<what> not found: <path>".
    """
    candidate = Path(path).expanduser()
    options = [candidate] if candidate.is_absolute() else [Path.cwd() / candidate, PROJECT_ROOT / candidate]
    for option in options:
        if option.is_file():
            return option
    raise FileNotFoundError(f"{what} not found: {path}")
