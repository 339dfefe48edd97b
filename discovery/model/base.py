"""The contract every property model follows, and the work they share, done once here.

`X` is a molecule table as `discovery.features.featurize` returns it (a pandas DataFrame with a
`smiles` column, QM descriptor columns and 0/1 category columns), restricted to rows whose
status is "ok". Each model takes the columns it needs: interaction models the descriptors and
categories, fingerprint models the SMILES. So every model, ours and the baselines, runs on the
same input and is interchangeable in evaluation and campaigns.

`PropertyModel` is scikit-learn's estimator contract (constructor keyword arguments are the
parameters, `fit(X, y) -> self`) with a predictive distribution instead of point predictions.
It does the shared work: validating the training data, timing the fit, predicting large tables
chunk by chunk with independent noise per chunk, keeping a fixed number of draws, saving and
loading without pickle. A model fills the hooks `_fit`, `_predict` and, if it can be saved,
`_save_state` / `_load_state`, and says what it can do in `capabilities`, so callers never probe.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from discovery import __version__
from discovery.config import ConfigEnum
from discovery.files import atomic_write_text
from discovery.model.diagnostics import FitDiagnostics
from discovery.model.prediction import Prediction

M = TypeVar("M", bound="PropertyModel")


class TargetTransform(ConfigEnum):
    """The scale a model is linear in: the property itself, or its logarithm (positive
    properties spanning orders of magnitude, e.g. permittivity or viscosity)."""

    NONE = "none"
    LOG = "log"


@dataclass(frozen=True)
class Capabilities:
    """What a model class can do beyond `fit` / `predict` (class-level, so callers can check a
    configuration before fitting anything).

    Attributes:
        posterior_draws: `predict` gives joint posterior draws of the property (acquisition
            ranks on them; a campaign needs them).
        persistence: `save` / `load` round-trip a fitted model (a resumed round reuses its fit).
        coefficients: `coefficients()` gives a table of the model's terms.
        leave_one_out: `leave_one_out()` gives leave-one-out predictives from one fit.
        descriptors: Takes descriptor columns (`descriptors=`), not only the SMILES.
        categories: Takes chemical-category columns (`categories=`).
        known_noise: `fit(..., noise_sd=)` enters each measurement's known SD into the likelihood;
            a model without it refuses known noise rather than dropping it.
    """

    posterior_draws: bool = False
    persistence: bool = False
    coefficients: bool = False
    leave_one_out: bool = False
    descriptors: bool = False
    categories: bool = False
    known_noise: bool = False


@dataclass(frozen=True)
class LeaveOneOut:
    """Leave-one-out predictives of the training molecules from one fit.

    Attributes:
        observation_draws: Predictive draws of a new measurement, shape (s, n).
        weights: Importance weights turning them into leave-one-out predictives, shape (s, n),
            columns summing to 1.
    """

    observation_draws: np.ndarray
    weights: np.ndarray


class PropertyModel(BaseEstimator, ABC):
    """fit(X, y) -> self; predict(X) -> Prediction (see the module docstring).

    Fitted attributes every model has: `fit_seconds_` and `diagnostics_` (a `FitDiagnostics`, or
    None for a model without a posterior sample to judge).
    """

    capabilities: ClassVar[Capabilities] = Capabilities()
    #: Rows per `_predict` call: bounds memory for large pools (512 draws of 4096 rows: ~17 MB in float32).
    chunk_rows: ClassVar[int] = 4096
    #: The scale the model is linear in (instances may set their own).
    target_transform: TargetTransform = TargetTransform.NONE

    seed: int
    fit_seconds_: float
    diagnostics_: FitDiagnostics | None

    # -- hooks ----------------------------------------------------------------------------------
    @abstractmethod
    def _fit(self, X: pd.DataFrame, y: np.ndarray, noise_sd: np.ndarray | None) -> None:
        """Fit on validated data: X (n rows), y finite, shape (n,); `noise_sd` None, or (only for
        a model with `capabilities.known_noise`) the known SD of each measurement, shape (n,), >= 0."""

    @abstractmethod
    def _predict(self, X: pd.DataFrame, n_draws: int | None, noise_seed: int, for_acquisition: bool) -> Prediction:
        """Predict up to `chunk_rows` rows; `n_draws` as in `predict` (a model that cannot thin
        may return more; the base keeps the first `n_draws`), `noise_seed` seeds any predictive
        noise, `for_acquisition` as in `predict`."""

    def _save_state(self, directory: Path) -> dict[str, Any]:
        """Write the fitted state's arrays into `directory`; return the rest as JSON-able data."""
        raise NotImplementedError

    def _load_state(self, directory: Path, state: dict[str, Any]) -> None:
        """Restore what `_save_state` wrote."""
        raise NotImplementedError

    # -- the shared work ------------------------------------------------------------------------
    def fit(self: M, X: pd.DataFrame, y: np.ndarray, noise_sd: np.ndarray | None = None) -> M:
        """Fit on X (n rows) and y, shape (n,), in the units of the property. Returns self.

        Rows with the same `identity` (if X has that column) are replicate measurements of one
        molecule. `noise_sd`: the known SD of each measurement in property units, shape (n,),
        NaN where not known (0); a model without `capabilities.known_noise` refuses it.
        """
        y = check_training_data(X, y)
        noise_sd = check_noise_sd(noise_sd, len(y))
        if noise_sd is not None and not self.capabilities.known_noise:
            raise ValueError(f"{type(self).__name__} cannot use known measurement uncertainties "
                             "(capabilities.known_noise is False); fit without noise_sd")
        start = time.perf_counter()
        self.diagnostics_ = None
        self._fit(X, y, noise_sd)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def predict(
        self, X: pd.DataFrame, *, n_draws: int | None = None, seed: int | None = None, for_acquisition: bool = False,
        draws_dtype: type = np.float64,
    ) -> Prediction:
        """The predictive distribution of the rows of X, computed `chunk_rows` at a time.

        Args:
            X: Molecule table.
            n_draws: Keep this many posterior draws (None: all the model has); bounds memory for
                large pools.
            seed: Seed of the predictive noise (None: the model's own); each chunk of rows gets
                its own stream, so their noise is independent.
            for_acquisition: The draws acquisition ranks on: the model's own posterior of the
                noise-free property, without any calibration stretch of the reported intervals and
                without observation draws (memory).
            draws_dtype: Store the draws in this type (float32 halves a large pool's memory).
        """
        self._check_fitted()
        if len(X) == 0:
            raise ValueError("nothing to predict: the table is empty")
        pieces = []
        for number, start in enumerate(range(0, len(X), self.chunk_rows)):
            noise_seed = (self.seed if seed is None else int(seed) * 1_000_003) + number
            piece = self._predict(X.iloc[start : start + self.chunk_rows], n_draws, noise_seed, for_acquisition)
            pieces.append(dataclasses.replace(
                piece,
                latent_draws=_kept(piece.latent_draws, n_draws, draws_dtype),
                observation_draws=None if for_acquisition else _kept(piece.observation_draws, n_draws, draws_dtype),
            ))
        return pieces[0] if len(pieces) == 1 else Prediction.concat(pieces)

    def coefficients(self, level: float = 0.9) -> pd.DataFrame:
        """The model's terms with their effect and central interval (capabilities.coefficients)."""
        raise NotImplementedError(f"{type(self).__name__} has no table of terms")

    def leave_one_out(self, X: pd.DataFrame, y: np.ndarray, noise_sd: np.ndarray | None = None) -> LeaveOneOut:
        """Leave-one-molecule-out predictives of the training rows (capabilities.leave_one_out):
        replicates of a molecule (same `identity`) are left out together."""
        raise NotImplementedError(f"{type(self).__name__} gives no leave-one-out predictives from one fit")

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "fit_seconds_")

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit() first")

    @classmethod
    def parameter_names(cls) -> list[str]:
        """The constructor's keyword arguments (scikit-learn's parameters)."""
        return list(cls._get_param_names())

    # -- persistence: JSON sidecar + the model's own array files, no pickle ----------------------
    def save(self, directory: str | Path) -> Path:
        """Write the fitted model to `directory` (`model.json` and the model's array files)."""
        if not self.capabilities.persistence:
            raise TypeError(f"{type(self).__name__} cannot be saved")
        self._check_fitted()
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        sidecar = {
            "format": _format(type(self)), "version": __version__,
            "params": self.get_params(deep=False), "state": self._save_state(out),
            "diagnostics": None if self.diagnostics_ is None else self.diagnostics_.to_dict(),
            "fit_seconds": self.fit_seconds_,
        }
        atomic_write_text(out / "model.json", json.dumps(sidecar, indent=1, default=to_jsonable))
        return out

    @classmethod
    def load(cls: type[M], directory: str | Path) -> M:
        """A model saved by `save`. Raises ValueError if the folder holds another model or
        version's format, OSError if files are missing."""
        if not cls.capabilities.persistence:
            raise TypeError(f"{cls.__name__} cannot be loaded")
        path = Path(directory)
        sidecar = json.loads((path / "model.json").read_text(encoding="utf-8"))
        if sidecar.get("format") != _format(cls):
            raise ValueError(f"{path / 'model.json'} is not a saved {cls.__name__}")
        try:
            model = cls(**sidecar["params"])
            model._load_state(path, sidecar["state"])
            diagnostics = sidecar["diagnostics"]
            model.diagnostics_ = None if diagnostics is None else FitDiagnostics.from_dict(diagnostics)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path} was saved by another version of discovery ({sidecar.get('version')}); "
                             f"fit it again ({type(exc).__name__}: {exc})") from None
        model.fit_seconds_ = float(sidecar["fit_seconds"])
        return model


def check_training_data(X: pd.DataFrame, y: np.ndarray, min_rows: int = 5) -> np.ndarray:
    """Validate a training set; returns y as a float array. Raises ValueError with the reason."""
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a pandas DataFrame of featurised molecules, got {type(X).__name__}")
    y = np.asarray(y, dtype=float).ravel()
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)} values")
    if len(y) < min_rows:
        raise ValueError(f"need at least {min_rows} measured molecules to fit, got {len(y)}")
    if not np.isfinite(y).all():
        bad = list(X.index[~np.isfinite(y)][:10])
        raise ValueError(f"target has non-finite values at rows {bad}")
    if np.ptp(y) == 0:
        raise ValueError("target is constant: every measured value equals " f"{y[0]:g}; nothing to learn")
    return y


def check_noise_sd(noise_sd: np.ndarray | None, n: int) -> np.ndarray | None:
    """Known measurement SDs as a float array of shape (n,) with NaN (unknown) as 0, or None when
    nothing is known. Raises ValueError for a wrong shape, a negative or an infinite SD."""
    if noise_sd is None:
        return None
    sd = np.asarray(noise_sd, dtype=float).ravel()
    if sd.shape != (n,):
        raise ValueError(f"noise_sd must have one SD per training row ({n}), got shape {np.shape(noise_sd)}")
    sd = np.where(np.isnan(sd), 0.0, sd)
    if not np.isfinite(sd).all() or (sd < 0).any():
        bad = np.flatnonzero(~np.isfinite(sd) | (sd < 0))[:10].tolist()
        raise ValueError(f"noise_sd must be finite and >= 0; rows {bad} are not")
    return sd if (sd > 0).any() else None


def molecule_groups(X: pd.DataFrame) -> np.ndarray:
    """Group number of each row, shape (n,): rows with the same `identity` are replicate
    measurements of one molecule (without that column every row is its own molecule)."""
    if "identity" not in X.columns:
        return np.arange(len(X))
    return pd.factorize(X["identity"].astype(str))[0]


def to_jsonable(value: Any) -> Any:
    """`json.dumps` default for settings and fitted state: dataclasses, enums, numpy, tuples."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _format(cls: type) -> str:
    return f"discovery.{cls.__name__}"


def _kept(draws: np.ndarray | None, n_draws: int | None, dtype: type) -> np.ndarray | None:
    if draws is None:
        return None
    return np.asarray(draws[:n_draws] if n_draws is not None else draws, dtype=dtype)
