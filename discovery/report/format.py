"""Numbers as a chemist reads them: a few significant figures, no float noise."""

from __future__ import annotations

import math

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def number(value: float | None, sig: int = 3) -> str:
    """`sig` significant figures; plain notation from 0.001 to 99 999, else "1.2×10⁵"; NaN: "–"."""
    if value is None or not math.isfinite(float(value)):
        return "–"
    value = float(value)
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    if -3 <= magnitude < 5:
        decimals = max(0, sig - 1 - magnitude)
        text = f"{value:.{decimals}f}"
        return "0" if float(text) == 0 else text
    mantissa, exponent = f"{value:.{sig - 1}e}".split("e")
    return f"{mantissa}×10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def percent(probability: float | None) -> str:
    """A probability as a whole percentage; "<1 %" and ">99 %" rather than a false 0 or 100."""
    if probability is None or not math.isfinite(float(probability)):
        return "–"
    p = 100 * float(probability)
    if 0 < p < 1:
        return "<1 %"
    if 99 < p < 100:
        return ">99 %"
    return f"{p:.0f} %"


def interval(lower: float, upper: float, sig: int = 3) -> str:
    """A 90 % interval as "lower – upper"."""
    return f"{number(lower, sig)} – {number(upper, sig)}"
