"""Interaction features: QM descriptors × chemical-category indicators (Shimakawa et al. 2024).

For every descriptor d and every kept category c, two columns `d*c=1` (d where the category is
present, else 0) and `d*c=0` (its complement); the intercept gives `c=1` and `c=0`; the
descriptors themselves are kept too. Categories too lopsided to carry a contrast are dropped.

The paper's design (npj Comput. Mater. 10, 11, 2024; its `make_interaction_term`): raw descriptors
and the categories chosen on its whole table, `choose_categories(table, ..., rule=MinorityRule.MORE_THAN)`,
then `InteractionFeatures(standardize=False, categories=<those>, screen_categories=False)`. Choosing
reads the molecules' category columns only, never a target, so a campaign may choose on measured ∪
candidate molecules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from discovery.config import ConfigEnum
from discovery.features.categories import CATEGORY_NAMES
from discovery.features.qm import DESCRIPTORS

_DESCRIPTOR_NAMES = tuple(d.name for d in DESCRIPTORS)


class MinorityRule(ConfigEnum):
    """When a category is too lopsided to keep, by its minority state (the rarer of 1 and 0)
    against `min_fraction` of the molecules it is chosen on."""

    AT_LEAST = "at_least"  # kept when the minority is at least min_fraction of the molecules
    # kept only when the minority is more than min_fraction: the paper drops "at most 10 %"
    # (its code: `count <= drop_rate * len(table)`)
    MORE_THAN = "more_than"


def choose_categories(
    molecules: pd.DataFrame,
    categories: Sequence[str] | None = None,
    min_fraction: float = 0.1,
    rule: MinorityRule | str = MinorityRule.AT_LEAST,
) -> list[str]:
    """The categories worth interacting: neither constant nor too lopsided on `molecules`.

    Reads only the category columns of `molecules` (structure, never a target): choose on the
    training rows, or on measured ∪ candidate molecules as the paper does on its whole table.

    Args:
        molecules: Rows to choose on, with the 0/1 category columns.
        categories: Candidate columns; default: every known category column present.
        min_fraction: Threshold on the minority state's share of the rows (see `rule`).
        rule: `MinorityRule`: whether a minority of exactly `min_fraction` is kept.

    Returns:
        The kept categories, in the order of `categories`.
    """
    if not 0.0 <= min_fraction < 0.5:
        raise ValueError("min_fraction must be in [0, 0.5)")
    rule = MinorityRule(rule)
    names = list(categories) if categories is not None else [c for c in CATEGORY_NAMES if c in molecules.columns]
    flags = category_matrix(molecules, names)
    n = len(molecules)
    ones = flags.sum(axis=0)
    minority = np.minimum(ones, n - ones)
    if rule is MinorityRule.MORE_THAN:
        keep = minority > min_fraction * n
    else:
        fraction = ones / max(n, 1)
        keep = (fraction >= min_fraction) & (1.0 - fraction >= min_fraction)
    keep &= minority > 0  # a constant column carries no contrast
    return [c for c, k in zip(names, keep, strict=True) if k]


class InteractionFeatures:
    """Build the interaction design matrix; fitted on training rows, applied unchanged later.

    Args:
        descriptors: Continuous descriptor columns; default: every known QM descriptor in X.
        categories: Binary 0/1 columns; default: every known category column in X.
        min_fraction: A category is kept only if its minority state (the rarer of 1 and 0)
            makes up at least this fraction of the training rows (default 0.1; see `minority_rule`).
        minority_rule: `MinorityRule.AT_LEAST` (a minority of exactly `min_fraction` is kept) or
            `MORE_THAN` (dropped, as the paper's "at most 10 %").
        screen_categories: Choose among `categories` on the training rows (`choose_categories`
            with `min_fraction` and `minority_rule`). False: `categories` were chosen beforehand
            (`choose_categories` on measured ∪ candidate molecules, the paper's table-wide choice)
            and are kept as given, even one that is constant in the training rows.
        standardize: Centre and scale descriptors with the training mean/std before interacting;
            False: interact the raw descriptors (the paper).
        complement: Also emit the complement columns `c=0` and `d*c=0` (the paper's symmetric
            design, right for PLS). Without them the coding is by reference (`d` and `d*c=1`
            span the same functions) and the design has no exact linear dependencies, which
            a Bayesian sampler needs.
        keep_descriptors: Emit the descriptors themselves (main effects) besides their
            interactions (the paper keeps them).
        min_contrast_rows: Merge a category into one kept before it (in `CATEGORY_NAMES`
            order, general before specific) when it, or its complement, differs from that
            category on fewer than this many training rows (0: never): so few molecules cannot
            tell the two effects apart. On 45 polymers "aromatic ring" and "aromatic bond" are the
            same column and "haloalkane" differs from "F" on 2 rows; their interaction columns
            are (near) copies, the sparse posterior has one mode per copy, and NUTS chains stick
            in different modes. With `screen_categories=False` a given category whose minority
            covers fewer than this many training rows is dropped too: it is then (nearly) the
            intercept, and `d*c=1` a copy of `d`.

    Fitted attributes: `descriptors_`, `categories_` (kept), `dropped_categories_` (too rare or
    too common), `aliases_` ({dropped category: the kept category it stands in for}),
    `dropped_descriptors_` (constant in training), `mean_`, `scale_`, `feature_names_out_`.
    """

    def __init__(
        self,
        descriptors: Sequence[str] | None = None,
        categories: Sequence[str] | None = None,
        min_fraction: float = 0.1,
        standardize: bool = True,
        complement: bool = True,
        min_contrast_rows: int = 0,
        minority_rule: MinorityRule | str = MinorityRule.AT_LEAST,
        screen_categories: bool = True,
        keep_descriptors: bool = True,
    ) -> None:
        if not 0.0 <= min_fraction < 0.5:
            raise ValueError("min_fraction must be in [0, 0.5)")
        if not screen_categories and categories is None:
            raise ValueError("screen_categories=False keeps the categories as given: pass the chosen categories=")
        self.descriptors = None if descriptors is None else list(descriptors)
        self.categories = None if categories is None else list(categories)
        self.min_fraction = min_fraction
        self.standardize = standardize
        self.complement = complement
        self.min_contrast_rows = min_contrast_rows
        self.minority_rule = MinorityRule(minority_rule)
        self.screen_categories = screen_categories
        self.keep_descriptors = keep_descriptors

    # -- fitting -----------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y: Any = None) -> InteractionFeatures:
        descriptors = self.descriptors if self.descriptors is not None else [c for c in _DESCRIPTOR_NAMES if c in X.columns]
        categories = self.categories if self.categories is not None else [c for c in CATEGORY_NAMES if c in X.columns]
        if not descriptors:
            raise ValueError("no descriptor columns found; pass `descriptors=`")
        values = descriptor_matrix(X, descriptors)
        flags = category_matrix(X, categories)
        n = len(X)
        if n < 2:
            raise ValueError("need at least 2 training rows")

        std = values.std(axis=0, ddof=0)
        constant = std <= 1e-12 * np.maximum(1.0, np.abs(values.mean(axis=0)))
        self.dropped_descriptors_ = [d for d, c in zip(descriptors, constant, strict=True) if c]
        self.descriptors_ = [d for d, c in zip(descriptors, constant, strict=True) if not c]
        kept = ~constant
        self.mean_ = values.mean(axis=0)[kept] if self.standardize else np.zeros(kept.sum())
        self.scale_ = std[kept] if self.standardize else np.ones(kept.sum())

        if self.screen_categories:
            chosen = set(choose_categories(X, categories, self.min_fraction, self.minority_rule))
        else:
            minority = np.minimum(flags.sum(axis=0), n - flags.sum(axis=0))
            chosen = {c for c, m in zip(categories, minority, strict=True) if m >= self.min_contrast_rows}
        self.dropped_categories_ = [c for c in categories if c not in chosen]
        self.categories_, self.aliases_ = [], {}
        kept_flags: list[np.ndarray] = []
        for c, column in zip(categories, flags.T, strict=True):
            if c not in chosen:
                continue
            if self.min_contrast_rows > 0:
                # rows on which c differs from each kept category, or from its complement
                differ = [min(int((column != other).sum()), int((column == other).sum())) for other in kept_flags]
                alias = next((i for i, d in enumerate(differ) if d < self.min_contrast_rows), None)
                if alias is not None:
                    self.aliases_[c] = self.categories_[alias]
                    continue
            self.categories_.append(c)
            kept_flags.append(column)
        self.feature_names_out_ = self._names()
        return self

    def _names(self) -> list[str]:
        levels = ("1", "0") if self.complement else ("1",)
        names = list(self.descriptors_) if self.keep_descriptors else []
        names += [f"{c}={v}" for c in self.categories_ for v in levels]
        names += [f"{d}*{c}={v}" for d in self.descriptors_ for c in self.categories_ for v in levels]
        return names

    # -- applying ----------------------------------------------------------------------------
    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Design matrix, shape (n_rows, len(feature_names_out_)), float64, indexed like X."""
        self._check_fitted()
        z = (descriptor_matrix(X, self.descriptors_) - self.mean_) / self.scale_
        flags = category_matrix(X, self.categories_)
        n = len(X)
        blocks = [z] if self.keep_descriptors else []
        if self.categories_:
            # (n, c, levels): category present (and absent, with complements)
            levels = np.stack([flags, 1.0 - flags], axis=2) if self.complement else flags[:, :, None]
            blocks.append(levels.reshape(n, -1))
            # (n, d, c, levels): descriptor d times each level of category c
            blocks.append((z[:, :, None, None] * levels[:, None, :, :]).reshape(n, -1))
        matrix = np.hstack(blocks) if blocks else np.empty((n, 0))
        return pd.DataFrame(matrix, index=X.index, columns=self.feature_names_out_)

    def fit_transform(self, X: pd.DataFrame, y: Any = None) -> pd.DataFrame:
        return self.fit(X).transform(X)

    def get_feature_names_out(self) -> list[str]:
        self._check_fitted()
        return list(self.feature_names_out_)

    # -- persistence (JSON-safe; no pickle) ---------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        self._check_fitted()
        return {
            "min_fraction": self.min_fraction,
            "standardize": self.standardize,
            "complement": self.complement,
            "min_contrast_rows": self.min_contrast_rows,
            "minority_rule": self.minority_rule.value,
            "screen_categories": self.screen_categories,
            "keep_descriptors": self.keep_descriptors,
            "descriptors": self.descriptors_,
            "categories": self.categories_,
            "dropped_descriptors": self.dropped_descriptors_,
            "dropped_categories": self.dropped_categories_,
            "aliases": self.aliases_,
            "mean": [float(v) for v in self.mean_],
            "scale": [float(v) for v in self.scale_],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InteractionFeatures:
        obj = cls(data["descriptors"], data["categories"], data["min_fraction"], data["standardize"], data["complement"],
                  data.get("min_contrast_rows", 0), data.get("minority_rule", MinorityRule.AT_LEAST),
                  data.get("screen_categories", True), data.get("keep_descriptors", True))
        obj.descriptors_ = list(data["descriptors"])
        obj.categories_ = list(data["categories"])
        obj.dropped_descriptors_ = list(data["dropped_descriptors"])
        obj.dropped_categories_ = list(data["dropped_categories"])
        obj.aliases_ = dict(data.get("aliases", {}))
        obj.mean_ = np.asarray(data["mean"], dtype=float)
        obj.scale_ = np.asarray(data["scale"], dtype=float)
        obj.feature_names_out_ = obj._names()
        return obj

    # -- validation ---------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "feature_names_out_"):
            raise RuntimeError("InteractionFeatures is not fitted; call fit() first")


def descriptor_matrix(X: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Descriptor values, shape (n, len(columns)), float64.

    Raises:
        ValueError: for missing columns, or non-finite values (naming the rows and columns).
    """
    columns = list(columns)
    missing = [c for c in columns if c not in X.columns]
    if missing:
        raise ValueError(f"missing descriptor column(s): {', '.join(missing)}")
    values = X[columns].to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        rows = list(X.index[bad.any(axis=1)][:10])
        cols = [columns[j] for j in np.where(bad.any(axis=0))[0]]
        raise ValueError(
            f"non-finite descriptor values in {int(bad.any(axis=1).sum())} row(s) (first: {rows}) "
            f"and column(s) {cols}; drop rows whose featurize status is not 'ok'"
        )
    return values


def category_matrix(X: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Category flags, shape (n, len(columns)), float64, every value 0 or 1.

    Raises:
        ValueError: for missing columns, or any other value (NaN: an undefined category; the
            paper's code leaves such a molecule out, and so must the caller).
    """
    columns = list(columns)
    missing = [c for c in columns if c not in X.columns]
    if missing:
        raise ValueError(f"missing category column(s): {', '.join(missing)}")
    flags = X[columns].to_numpy(dtype=float)
    if flags.size and not np.isin(flags, (0.0, 1.0)).all():
        raise ValueError("category columns must be 0/1 (invalid molecules carry -1 and undefined categories NaN: "
                         "drop those rows)")
    return flags
