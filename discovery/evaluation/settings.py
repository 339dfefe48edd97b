"""The schema of `python -m discovery.evaluate`: `EvaluateSettings` and its groups.

Hydra composes `conf/evaluate.yaml` with the groups `split`, `model`, `features` and `qm` onto
these dataclasses (registered in its ConfigStore on import); `EvaluateSettings.from_config`
converts the result once (`discovery.config.from_mapping`), naming the key of any bad value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from discovery.config import ConfigEnum, ConfigError, coerce_enums, from_mapping, register
from discovery.evaluation.named_splits import SPLITS, split_settings
from discovery.features import QMSettings
from discovery.model import ModelConfig


class FeatureKind(ConfigEnum):
    QM = "qm"  # GFN2-xTB descriptors computed from the SMILES with the `qm` settings, cached
    PRECOMPUTED = "precomputed"  # dataset columns are the descriptors, and may be the categories (no QM)


@dataclass(frozen=True)
class DatasetSettings:
    """The `dataset` keys.

    Attributes:
        path: CSV file (.tsv / .parquet too); relative: working directory, then the checkout.
        target_col: Column of the numeric target (rows without a value are dropped and counted;
            any non-numeric value is an error).
        smiles_col: Column of SMILES or polymer PSMILES.
    """

    path: str
    target_col: str
    smiles_col: str = "smiles"


@dataclass(frozen=True)
class FeatureSettings:
    """The `features` group.

    Attributes:
        name: "qm" or "precomputed".
        columns: precomputed: the dataset columns that are the descriptors (passed to the model
            as `descriptors=` if it takes them).
        category_columns: precomputed: the dataset columns that are the chemical categories
            (0/1, empty or NaN where undefined: such a row is dropped as "undefined_category"),
            instead of computed ones; passed to the model as `categories=` if it takes them.
        categories: Add chemical-category columns computed from the SMILES (no QM) when the
            dataset gives none of its own.
    """

    name: FeatureKind = FeatureKind.QM
    columns: tuple[str, ...] | None = None
    category_columns: tuple[str, ...] | None = None
    categories: bool = True

    def __post_init__(self) -> None:
        coerce_enums(self, "features.")
        if self.name is FeatureKind.PRECOMPUTED and not self.columns:
            raise ConfigError("features=precomputed needs features.columns=[col1,col2,...] naming descriptor columns")
        if self.category_columns is not None and self.name is not FeatureKind.PRECOMPUTED:
            raise ConfigError("features.category_columns needs features=precomputed (with features=qm the "
                              "categories are computed from the SMILES)")


@dataclass(frozen=True)
class EvaluateSettings:
    """Everything one `python -m discovery.evaluate` needs (the root config; see that module's
    docstring for the keys).

    Attributes:
        dataset, split, model, features, qm: The dataset keys and the config groups.
        output_dir: Where metrics.json and predictions.csv go.
        seed: Seeds the split and the model.
        state_dir: Root of default run directories and of the cache.
        cache_path: Descriptor cache (features=qm); None: `<state_dir>/cache/descriptors.sqlite`.
        n_workers: Local featurisation processes; None: all cores.
        dask_address: Dask scheduler to featurise on a cluster; None: local processes.
        progress: Show the featurisation progress bar.
    """

    dataset: DatasetSettings
    split: Any  # a SplitSettings, chosen by the `split` group (an Any node: their schemas differ)
    model: ModelConfig
    output_dir: Path
    features: FeatureSettings = field(default_factory=FeatureSettings)
    qm: QMSettings = field(default_factory=QMSettings)
    seed: int = 0
    state_dir: Path = Path("discovery-runs")
    cache_path: Path | None = None
    n_workers: int | None = None
    dask_address: str | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.split, Mapping):  # a config's split: its `name` says which dataclass
            params = dict(self.split)
            object.__setattr__(self, "split", split_settings(params.pop("name", None), **params))
        if not isinstance(self.split, tuple(SPLITS.values())):
            raise ConfigError(f"split must be one of {list(SPLITS)} (split=NAME), got {self.split!r}")
        if self.cache_path is None:
            object.__setattr__(self, "cache_path", self.state_dir / "cache" / "descriptors.sqlite")

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> EvaluateSettings:
        return from_mapping(cls, cfg)


register("evaluate_schema", EvaluateSettings)
for kind, schema in SPLITS.items():
    register(f"base_{kind}", schema, group="split")
register("base_features", FeatureSettings, group="features")
register("base_qm", QMSettings, group="qm")
register("base_model", ModelConfig, group="model")
