"""The tables that travel between stages, each described once: acquisition writes the proposal
table, the campaign store keeps it, the lab file carries it out and back, the report shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Column:
    """A column: its name and what it holds, in the chemist's words with units."""

    name: str
    meaning: str


@dataclass(frozen=True)
class Table:
    """An ordered set of required columns; frames may carry more."""

    name: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def check(self, frame: pd.DataFrame, where: str | None = None) -> pd.DataFrame:
        """`frame` itself; raises ValueError naming the columns it lacks."""
        missing = [c for c in self.names if c not in frame.columns]
        if missing:
            raise ValueError(f"{where or self.name} lacks column(s) {missing} (has {list(frame.columns)})")
        return frame

    def select(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The table's columns of `frame`, in the table's order."""
        return self.check(frame)[list(self.names)]


#: One row per proposed candidate, in pick order (acquisition → store → lab file → report).
PROPOSALS = Table("proposals", (
    Column("rank", "pick order, 1 = first"),
    Column("candidate_id", "the campaign's id of the molecule, e.g. C000123"),
    Column("smiles", "SMILES, or PSMILES of a polymer repeat unit"),
    Column("mean", "predicted value of the property (the median for a log-scale model), property units"),
    Column("lower_90", "lower end of the 90 % interval of a new measurement, property units"),
    Column("upper_90", "upper end of that interval"),
    Column("prob_beat_best", "probability that the property itself beats the best measured value"),
    Column("prob_feasible", "probability that the lab can make and measure it, learned from failed experiments "
                            "(empty until enough have failed)"),
    Column("acquisition_value", "the strategy's score at this pick, given the earlier picks"),
    Column("nearest_measured_id", "the most similar measured molecule (Morgan-fingerprint Tanimoto)"),
    Column("nearest_measured_smiles", "its SMILES"),
    Column("nearest_similarity", "its Tanimoto similarity to the candidate, 0 to 1"),
    Column("outside_domain", "no measured molecule is similar: the prediction is an extrapolation"),
))

#: Added to `PROPOSALS` when the batch is chosen on several properties (`ehvi`, `pareto_pi`).
PARETO_PROPOSALS = Table("pareto proposals", (
    Column("prob_meets_constraints", "probability that the candidate meets every constraint of the campaign"),
    Column("prob_extends_front", "probability that it meets them and no measured molecule that does is at least "
                                 "as good on every objective (it extends the measured Pareto front)"),
))


def further_columns(property_name: str, *, modelled: bool) -> tuple[str, ...]:
    """A further property's columns after the `PROPOSALS` ones: a computed property's value
    (`<name>`), or a measured one's predicted value and 90 % interval of a new measurement
    (`<name>`, `<name>_lower_90`, `<name>_upper_90`), property units."""
    if not modelled:
        return (property_name,)
    return property_name, f"{property_name}_lower_90", f"{property_name}_upper_90"
