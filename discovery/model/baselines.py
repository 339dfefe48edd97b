"""Baseline property models, each with the `fit(X, y) -> self` / `predict(X) -> Prediction` contract.

* `PLSILR`: the interaction linear model of Shimakawa, Kumada & Sato (npj Comput. Mater. 2024):
  QM descriptors × chemical categories, then partial least squares.
* `PLSQM`: partial least squares on the QM descriptors alone.
* `TanimotoGP`: a GAUCHE-style Gaussian process on Morgan fingerprints with a Tanimoto kernel.
* `RandomForestMorgan`: a random forest on Morgan fingerprints.
* `KernelRidgeQM`: RBF kernel ridge regression on the standardised QM descriptors.

Everything is in the units of the target y. Models without a posterior of their own (PLS,
kernel ridge) report an honest homoscedastic Gaussian: the noise std is the RMSE of 5-fold
cross-validated predictions on the training data, with every step that sees the targets (feature
standardisation, category screening, hyperparameter search) refitted inside each fold, and the
latent (epistemic) std is 0. That makes their intervals well calibrated on average over molecules
like the training set, but they carry no information about which molecule is more uncertain.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn.cross_decomposition import PLSRegression
from sklearn.ensemble import RandomForestRegressor
from sklearn.kernel_ridge import KernelRidge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.preprocessing import StandardScaler

from discovery.features.categories import CATEGORY_NAMES
from discovery.features.fingerprints import morgan_fingerprints
from discovery.features.interactions import InteractionFeatures, MinorityRule, descriptor_matrix
from discovery.features.qm import DESCRIPTORS
from discovery.model.base import Capabilities, PropertyModel
from discovery.model.prediction import Prediction

_QM_NAMES = tuple(d.name for d in DESCRIPTORS)
_CV_FOLDS = 5

__all__ = ["KernelRidgeQM", "PLSILR", "PLSQM", "RandomForestMorgan", "TanimotoGP"]


# --------------------------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------------------------


def _require_columns(X: pd.DataFrame, columns: Sequence[str], owner: str, when: str = "was fitted on") -> None:
    """Raise ValueError naming the columns of `columns` that X lacks."""
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a pandas DataFrame of featurised molecules, got {type(X).__name__}")
    missing = [c for c in columns if c not in X.columns]
    if missing:
        raise ValueError(
            f"{owner} {when} column(s) {list(columns)}, but X lacks {missing}; "
            "featurise the new molecules with the same settings"
        )


def _select_descriptors(X: pd.DataFrame, descriptors: Sequence[str] | None, owner: str) -> list[str]:
    """The descriptor columns to use: an explicit list (checked) or every known QM descriptor in X."""
    if descriptors is not None:
        chosen = list(descriptors)
        if not chosen:
            raise ValueError(f"{owner}: descriptors=[] selects nothing; pass None for all QM descriptors")
        _require_columns(X, chosen, owner, when="was asked to use")
        return chosen
    chosen = [c for c in _QM_NAMES if c in X.columns]
    if not chosen:
        raise ValueError(
            f"{owner}: X has none of the QM descriptor columns ({', '.join(_QM_NAMES[:3])}, ...); "
            "featurise with QM descriptors or pass descriptors=[...] naming your own columns"
        )
    return chosen


def _smiles(X: pd.DataFrame) -> list[str]:
    values = X["smiles"]
    if values.isna().any():
        raise ValueError(f"missing SMILES at rows {list(X.index[values.isna()][:10])}")
    return [str(s) for s in values]


class _MeanModel(Protocol):
    def predict(self, X: pd.DataFrame) -> np.ndarray: ...


def _cv_rmse(fit_core: Any, X: pd.DataFrame, y: np.ndarray, seed: int) -> float:
    """RMSE of K-fold (K = min(5, n)) cross-validated predictions, shuffled with `seed`.

    `fit_core(X_train, y_train)` must return an object whose `predict(X_test)` gives means; it is
    refitted from scratch in each fold so nothing of the held-out fold leaks into its prediction.
    """
    folds = KFold(n_splits=min(_CV_FOLDS, len(y)), shuffle=True, random_state=seed)
    pred = np.empty_like(y)
    for train, test in folds.split(np.arange(len(y))):
        core = fit_core(X.iloc[train], y[train])
        pred[test] = core.predict(X.iloc[test])
    return float(np.sqrt(np.mean((pred - y) ** 2)))


class _ConstantMean:
    """Predicts the training mean; used in a CV fold in which no feature varies."""

    def __init__(self, value: float) -> None:
        self.value = value

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.full(len(X), self.value)


# --------------------------------------------------------------------------------------------
# PLS models
# --------------------------------------------------------------------------------------------


class _PLSCore:
    """Fitted (feature map, PLS) pair; `predict` gives means, shape (n,)."""

    def __init__(self, features: InteractionFeatures | None, columns: list[str], pls: PLSRegression) -> None:
        self.features = features
        self.columns = columns
        self.pls = pls

    def design(self, X: pd.DataFrame) -> np.ndarray:
        if self.features is not None:
            return self.features.transform(X).to_numpy()
        return descriptor_matrix(X, self.columns)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.pls.predict(self.design(X)), dtype=float).ravel()


def _fit_pls(Z: np.ndarray, y: np.ndarray, n_components: int) -> PLSRegression | None:
    """PLS with as many components as the data allow; None when there is no usable feature."""
    n, p = Z.shape
    if p == 0 or np.all(Z.std(axis=0) == 0):
        return None
    k = max(1, min(int(n_components), n - 1, p))
    # scale=True standardises every column with the training std (columns constant in the
    # training rows get scale 1), as in the paper.
    return PLSRegression(n_components=k, scale=True).fit(Z, y)


class PLSILR(PropertyModel):
    """Interaction linear regression by PLS (Shimakawa, Kumada & Sato, npj Comput. Mater. 2024).

    `InteractionFeatures` (both levels of every category) is fitted on the training rows, then
    `PLSRegression(n_components=min(n_components, n_rows - 1, n_features), scale=True)`.
    The paper's own design: `standardize=False`, and the categories chosen on the whole table
    (`choose_categories(..., rule="more_than")`) passed as `categories=` with
    `screen_categories=False`.

    Uncertainty: homoscedastic Gaussian, noise std = RMSE of 5-fold CV predictions on the
    training data (features refitted in each fold), latent std = 0; see the module docstring.

    Args:
        n_components: Upper bound on PLS latent components.
        descriptors: Descriptor columns; default: every QM descriptor of `DESCRIPTORS` in X.
        categories: 0/1 category columns; default: every known category column in X.
        min_fraction, minority_rule: Keep a category only if its minority state covers this
            fraction of the training rows (`MinorityRule`: at least, or more than).
        screen_categories: False: `categories` were chosen beforehand (e.g. on measured ∪
            candidate molecules) and are used as given.
        standardize: Standardise the descriptors before interacting (False: raw, as the paper).
        keep_descriptors: Keep the descriptors themselves besides their interactions.
        seed: Shuffles the CV folds.

    Fitted attributes: `features_` (InteractionFeatures), `pls_`, `n_components_`,
    `columns_` (input columns needed at predict time), `noise_std_` (units of y).
    """

    capabilities = Capabilities(descriptors=True, categories=True)

    def __init__(
        self,
        n_components: int = 8,
        descriptors: Sequence[str] | None = None,
        categories: Sequence[str] | None = None,
        min_fraction: float = 0.1,
        minority_rule: MinorityRule | str = MinorityRule.AT_LEAST,
        screen_categories: bool = True,
        standardize: bool = True,
        keep_descriptors: bool = True,
        seed: int = 0,
    ) -> None:
        self.n_components = n_components
        self.descriptors = descriptors
        self.categories = categories
        self.min_fraction = min_fraction
        self.minority_rule = MinorityRule(minority_rule)
        self.screen_categories = screen_categories
        self.standardize = standardize
        self.keep_descriptors = keep_descriptors
        self.seed = seed

    def _fit_core(self, X: pd.DataFrame, y: np.ndarray) -> _MeanModel:
        features = InteractionFeatures(
            self.descriptors_, self.categories_in_, self.min_fraction, standardize=self.standardize,
            minority_rule=self.minority_rule, screen_categories=self.screen_categories,
            keep_descriptors=self.keep_descriptors,
        ).fit(X)
        pls = _fit_pls(features.transform(X).to_numpy(), y, self.n_components)
        if pls is None:
            return _ConstantMean(float(y.mean()))
        return _PLSCore(features, [], pls)

    def _fit(self, X: pd.DataFrame, y: np.ndarray, noise_sd: np.ndarray | None) -> None:
        self.descriptors_ = _select_descriptors(X, self.descriptors, type(self).__name__)
        if self.categories is not None:
            _require_columns(X, self.categories, type(self).__name__, when="was asked to use")
            self.categories_in_ = list(self.categories)
        else:
            self.categories_in_ = [c for c in CATEGORY_NAMES if c in X.columns]
        core = self._fit_core(X, y)
        if not isinstance(core, _PLSCore):
            raise ValueError(f"PLSILR: every descriptor in {self.descriptors_} is constant in the training data")
        self.features_ = core.features
        self.pls_ = core.pls
        self.n_components_ = int(core.pls.n_components)
        self.columns_ = list(self.features_.descriptors_) + list(self.features_.categories_)
        self.noise_std_ = _cv_rmse(self._fit_core, X, y, self.seed)

    def _predict(self, X: pd.DataFrame, n_draws: int | None, noise_seed: int, for_acquisition: bool) -> Prediction:
        """Predictive distribution for the n rows of X; mean and std shape (n,), units of y."""
        _require_columns(X, self.columns_, type(self).__name__)
        mean = _PLSCore(self.features_, [], self.pls_).predict(X)
        return Prediction.gaussian(mean, 0.0, self.noise_std_)


class PLSQM(PropertyModel):
    """PLS on the standardised QM descriptors alone (no category interactions).

    Uncertainty as `PLSILR`: homoscedastic Gaussian with the 5-fold CV RMSE as noise std.

    Args:
        n_components: Upper bound on PLS components (capped at n_rows - 1 and n_descriptors).
        descriptors: Descriptor columns; default: every QM descriptor of `DESCRIPTORS` in X.
        seed: Shuffles the CV folds.

    Fitted attributes: `columns_` (descriptors used), `pls_`, `n_components_`, `noise_std_`.
    """

    capabilities = Capabilities(descriptors=True)

    def __init__(self, n_components: int = 8, descriptors: Sequence[str] | None = None, seed: int = 0) -> None:
        self.n_components = n_components
        self.descriptors = descriptors
        self.seed = seed

    def _fit_core(self, X: pd.DataFrame, y: np.ndarray) -> _MeanModel:
        pls = _fit_pls(descriptor_matrix(X, self.columns_), y, self.n_components)
        if pls is None:
            return _ConstantMean(float(y.mean()))
        return _PLSCore(None, self.columns_, pls)

    def _fit(self, X: pd.DataFrame, y: np.ndarray, noise_sd: np.ndarray | None) -> None:
        self.columns_ = _select_descriptors(X, self.descriptors, type(self).__name__)
        core = self._fit_core(X, y)
        if not isinstance(core, _PLSCore):
            raise ValueError(f"PLSQM: every descriptor in {self.columns_} is constant in the training data")
        self.pls_ = core.pls
        self.n_components_ = int(core.pls.n_components)
        self.noise_std_ = _cv_rmse(self._fit_core, X, y, self.seed)

    def _predict(self, X: pd.DataFrame, n_draws: int | None, noise_seed: int, for_acquisition: bool) -> Prediction:
        """Predictive distribution for the n rows of X; mean and std shape (n,), units of y."""
        _require_columns(X, self.columns_, type(self).__name__)
        mean = _PLSCore(None, self.columns_, self.pls_).predict(X)
        return Prediction.gaussian(mean, 0.0, self.noise_std_)


# --------------------------------------------------------------------------------------------
# kernel ridge
# --------------------------------------------------------------------------------------------

_KRR_ALPHAS = (1e-3, 1e-2, 1e-1, 1.0, 10.0)
# gamma = factor / n_features: factor 1 is the usual "scale" choice for standardised inputs.
_KRR_GAMMA_FACTORS = (0.01, 0.1, 1.0, 10.0)


class _KRRCore:
    """Standardise X, tune (alpha, gamma) by grid search, fit RBF kernel ridge on standardised y."""

    def __init__(self, columns: list[str], seed: int) -> None:
        self.columns = columns
        self.seed = seed

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> _KRRCore:
        Z = descriptor_matrix(X, self.columns)
        self.scaler = StandardScaler().fit(Z)
        # Kernel ridge has no intercept and shrinks towards 0: centre and scale y first.
        self.y_mean = float(y.mean())
        self.y_scale = float(y.std()) or 1.0
        t = (y - self.y_mean) / self.y_scale
        grid = {"alpha": list(_KRR_ALPHAS), "gamma": [f / Z.shape[1] for f in _KRR_GAMMA_FACTORS]}
        folds = KFold(n_splits=min(_CV_FOLDS, len(y)), shuffle=True, random_state=self.seed)
        search = GridSearchCV(KernelRidge(kernel="rbf"), grid, cv=folds, scoring="neg_mean_squared_error")
        search.fit(self.scaler.transform(Z), t)
        self.model = search.best_estimator_
        self.alpha = float(search.best_params_["alpha"])
        self.gamma = float(search.best_params_["gamma"])
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        Z = self.scaler.transform(descriptor_matrix(X, self.columns))
        return self.y_mean + self.y_scale * np.asarray(self.model.predict(Z), dtype=float).ravel()


class KernelRidgeQM(PropertyModel):
    """RBF kernel ridge regression on the standardised QM descriptors.

    alpha in {1e-3, ..., 10} and gamma in {0.01, 0.1, 1, 10} / n_descriptors are chosen by 5-fold
    GridSearchCV (on standardised y). Uncertainty as `PLSILR`: homoscedastic Gaussian whose noise
    std is the RMSE of an outer 5-fold CV that repeats the grid search inside each fold (nested,
    so the choice of hyperparameters does not flatter the error estimate); latent std = 0.

    Args:
        descriptors: Descriptor columns; default: every QM descriptor of `DESCRIPTORS` in X.
        seed: Shuffles the CV folds.

    Fitted attributes: `columns_`, `alpha_`, `gamma_`, `noise_std_` (units of y).
    """

    capabilities = Capabilities(descriptors=True)

    def __init__(self, descriptors: Sequence[str] | None = None, seed: int = 0) -> None:
        self.descriptors = descriptors
        self.seed = seed

    def _fit_core(self, X: pd.DataFrame, y: np.ndarray) -> _KRRCore:
        return _KRRCore(self.columns_, self.seed).fit(X, y)

    def _fit(self, X: pd.DataFrame, y: np.ndarray, noise_sd: np.ndarray | None) -> None:
        self.columns_ = _select_descriptors(X, self.descriptors, type(self).__name__)
        self.core_ = self._fit_core(X, y)
        self.alpha_ = self.core_.alpha
        self.gamma_ = self.core_.gamma
        self.noise_std_ = _cv_rmse(self._fit_core, X, y, self.seed)

    def _predict(self, X: pd.DataFrame, n_draws: int | None, noise_seed: int, for_acquisition: bool) -> Prediction:
        """Predictive distribution for the n rows of X; mean and std shape (n,), units of y."""
        _require_columns(X, self.columns_, type(self).__name__)
        return Prediction.gaussian(self.core_.predict(X), 0.0, self.noise_std_)


# --------------------------------------------------------------------------------------------
# random forest on fingerprints
# --------------------------------------------------------------------------------------------


class RandomForestMorgan(PropertyModel):
    """Random forest on Morgan fingerprints of `X["smiles"]`.

    Uncertainty: latent std = standard deviation of the per-tree predictions (shape (n,)); noise
    std = out-of-bag RMSE (a scalar); std = sqrt(latent² + noise²). The OOB error already
    contains model error, so the std errs on the wide side. Trees predict a training-set
    average, so the mean never leaves the range of the training targets (no extrapolation).

    Args:
        n_estimators: Number of trees.
        radius, n_bits: Morgan fingerprint radius and length.
        min_samples_leaf: Minimum training rows per leaf.
        seed: Bootstrap and feature sampling of the forest.

    Fitted attributes: `forest_`, `noise_std_` (units of y), `columns_` (["smiles"]).
    """

    capabilities = Capabilities(posterior_draws=True)

    def __init__(
        self,
        n_estimators: int = 500,
        radius: int = 2,
        n_bits: int = 2048,
        min_samples_leaf: int = 1,
        seed: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.radius = radius
        self.n_bits = n_bits
        self.min_samples_leaf = min_samples_leaf
        self.seed = seed

    def _fit(self, X: pd.DataFrame, y: np.ndarray, noise_sd: np.ndarray | None) -> None:
        self.columns_ = ["smiles"]
        _require_columns(X, self.columns_, type(self).__name__, when="needs")
        fps = morgan_fingerprints(_smiles(X), int(self.radius), int(self.n_bits))
        self.forest_ = RandomForestRegressor(
            n_estimators=int(self.n_estimators),
            min_samples_leaf=int(self.min_samples_leaf),
            oob_score=True,
            random_state=self.seed,
        ).fit(fps, y)
        # With few trees some rows are never out of bag (NaN prediction): skip them.
        oob = np.asarray(self.forest_.oob_prediction_, dtype=float).ravel()
        ok = np.isfinite(oob)
        if not ok.any():
            raise ValueError("no out-of-bag predictions; increase n_estimators")
        self.noise_std_ = float(np.sqrt(np.mean((oob[ok] - y[ok]) ** 2)))

    def _predict(self, X: pd.DataFrame, n_draws: int | None, noise_seed: int, for_acquisition: bool) -> Prediction:
        """Predictive distribution for the n rows of X; mean and std shape (n,), units of y;
        `latent_draws` (n_trees, n) are the individual trees' predictions."""
        _require_columns(X, self.columns_, type(self).__name__)
        fps = morgan_fingerprints(_smiles(X), int(self.radius), int(self.n_bits)).astype(np.float32)
        per_tree = np.stack([tree.predict(fps) for tree in self.forest_.estimators_])  # (n_trees, n)
        gaussian = Prediction.gaussian(per_tree.mean(axis=0), per_tree.std(axis=0), self.noise_std_)
        # the trees' predictions are the forest's ensemble "draws" (what acquisition ranks)
        return Prediction(mean=gaussian.mean, std=gaussian.std, latent_std=gaussian.latent_std, latent_draws=per_tree)


# --------------------------------------------------------------------------------------------
# Tanimoto GP
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _tanimoto_kernel_class() -> type:
    """Build the gpytorch kernel class on first use, so the PLS/RF/KRR baselines load no torch."""
    import gpytorch
    import torch

    class TanimotoKernel(gpytorch.kernels.Kernel):
        """Tanimoto (Jaccard) similarity of bit vectors: <a, b> / (|a| + |b| - <a, b>).

        Positive semi-definite on binary vectors; no hyperparameters (wrap it in a ScaleKernel
        for an amplitude). Two empty fingerprints count as identical (similarity 1), as in
        `discovery.features.fingerprints.tanimoto_similarity`.
        """

        is_stationary = False
        has_lengthscale = False

        def forward(self, x1: torch.Tensor, x2: torch.Tensor, diag: bool = False, **params: Any) -> torch.Tensor:
            if diag:
                inter = (x1 * x2).sum(dim=-1)
                union = (x1 * x1).sum(dim=-1) + (x2 * x2).sum(dim=-1) - inter
            else:
                inter = x1 @ x2.transpose(-2, -1)
                union = (x1 * x1).sum(dim=-1, keepdim=True) + (x2 * x2).sum(dim=-1).unsqueeze(-2) - inter
            return torch.where(union > 0, inter / union.clamp_min(1e-12), torch.ones_like(inter))

    TanimotoKernel.__module__, TanimotoKernel.__qualname__ = __name__, "TanimotoKernel"
    return TanimotoKernel


def __getattr__(name: str) -> Any:
    # `from discovery.model.baselines import TanimotoKernel` works, importing torch only then.
    if name == "TanimotoKernel":
        return _tanimoto_kernel_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class TanimotoGP(PropertyModel):
    """Exact GP on Morgan fingerprints with a scaled Tanimoto kernel (GAUCHE-style).

    A BoTorch `SingleTaskGP` in float64 with a constant mean, `ScaleKernel(TanimotoKernel())`,
    Gaussian likelihood (BoTorch's default log-normal noise prior) and `Standardize(m=1)` outcome
    transform; hyperparameters by maximising the exact marginal likelihood (`fit_gpytorch_mll`).

    Prediction (all in units of y, shape (n,)): `mean`; `latent_std`, the posterior std of the
    noise-free property f; `std`, that plus the fitted likelihood noise. `latent_draws`, shape
    (n_draws, n): when n <= `MAX_JOINT` (2000) they are joint posterior samples of f (correlated
    across molecules, suitable for Thompson sampling of a batch); above that the joint covariance
    would cost O(n²) memory, so each molecule gets independent draws from its marginal normal
    (right marginals, no correlation). `observation_draws` stay None: the predictive is Gaussian
    and `Prediction.quantiles` uses the exact normal.

    Args:
        radius, n_bits: Morgan fingerprint radius and length.
        n_draws: Number of posterior draws returned by `predict` (0 for none).
        seed: torch seed for the fit and the draws (the global torch RNG state is restored).

    Fitted attributes: `model_` (the SingleTaskGP), `noise_std_` (units of y), `outputscale_`,
    `columns_` (["smiles"]).
    """

    MAX_JOINT = 2000
    _CHUNK = 2000  # test points per posterior evaluation above MAX_JOINT: bounds memory

    capabilities = Capabilities(posterior_draws=True)

    def __init__(self, radius: int = 2, n_bits: int = 2048, n_draws: int = 256, seed: int = 0) -> None:
        self.radius = radius
        self.n_bits = n_bits
        self.n_draws = n_draws
        self.seed = seed

    def _inputs(self, X: pd.DataFrame) -> Any:
        import torch

        fps = morgan_fingerprints(_smiles(X), int(self.radius), int(self.n_bits))
        return torch.as_tensor(fps, dtype=torch.float64)

    def _fit(self, X: pd.DataFrame, y: np.ndarray, noise_sd: np.ndarray | None) -> None:
        import torch
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import SingleTaskGP
        from botorch.models.transforms import Standardize
        from gpytorch.kernels import ScaleKernel
        from gpytorch.mlls import ExactMarginalLogLikelihood

        self.columns_ = ["smiles"]
        _require_columns(X, self.columns_, type(self).__name__, when="needs")
        train_x = self._inputs(X)
        train_y = torch.as_tensor(y, dtype=torch.float64).unsqueeze(-1)
        kernel = _tanimoto_kernel_class()
        # fork_rng: seed the fit (random restarts) without disturbing the caller's torch RNG.
        with torch.random.fork_rng():
            torch.manual_seed(int(self.seed))
            model = SingleTaskGP(
                train_x, train_y, covar_module=ScaleKernel(kernel()), outcome_transform=Standardize(m=1)
            )
            fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        model.eval()
        self.model_ = model
        # Likelihood noise lives on the standardised scale: map it back to units of y.
        y_scale = float(model.outcome_transform.stdvs.squeeze())
        self.noise_std_ = float(model.likelihood.noise.detach().squeeze().sqrt()) * y_scale
        self.outputscale_ = float(model.covar_module.outputscale.detach()) * y_scale**2

    def _predict(self, X: pd.DataFrame, n_draws: int | None, noise_seed: int, for_acquisition: bool) -> Prediction:
        """Predictive distribution for the n rows of X (see the class docstring for shapes)."""
        import torch

        _require_columns(X, self.columns_, type(self).__name__)
        test_x = self._inputs(X)
        n = len(X)
        count = int(self.n_draws) if n_draws is None else min(int(self.n_draws), n_draws)
        mean = np.empty(n)
        var = np.empty(n)
        draws = np.empty((count, n)) if count > 0 else None
        with torch.no_grad(), torch.random.fork_rng():
            torch.manual_seed(noise_seed)
            # One posterior over all points when the draws are joint, else bounded chunks.
            chunk = max(n, 1) if n <= self.MAX_JOINT else self._CHUNK
            for start in range(0, n, chunk):
                stop = min(start + chunk, n)
                posterior = self.model_.posterior(test_x[start:stop])  # latent f, original units
                mean[start:stop] = posterior.mean.squeeze(-1).numpy()
                var[start:stop] = posterior.variance.squeeze(-1).clamp_min(0.0).numpy()
                if draws is not None and n <= self.MAX_JOINT:
                    draws[:, start:stop] = posterior.rsample(torch.Size([count])).squeeze(-1).numpy()
            if draws is not None and n > self.MAX_JOINT:
                eps = torch.randn(count, n, dtype=torch.float64).numpy()
                draws = mean[None, :] + np.sqrt(var)[None, :] * eps
        latent_std = np.sqrt(var)
        std = np.sqrt(var + self.noise_std_**2)
        return Prediction(mean=mean, std=std, latent_std=latent_std, latent_draws=draws)
