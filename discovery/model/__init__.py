"""Property models with one `fit` / `predict` contract (`PropertyModel`): the Bayesian
interaction linear model and the baselines it is measured against.

`make_model(name, **params)` builds one by its config name (`conf/model/<name>.yaml`).
"""

from __future__ import annotations

import importlib
from typing import Any

from discovery.model.base import Capabilities, LeaveOneOut, PropertyModel, TargetTransform, check_training_data
from discovery.model.diagnostics import CalibrationRecord, FitDiagnostics, HealthCheck, HealthThresholds, ModelDiagnosticsWarning
from discovery.model.prediction import Prediction

#: Config name -> "module:class". Imported lazily: PyMC, torch and gpytorch load only when used.
MODELS: dict[str, str] = {
    "bayes_ilr": "discovery.model.bayes:BayesianILR",
    "pls_ilr": "discovery.model.baselines:PLSILR",
    "pls_qm": "discovery.model.baselines:PLSQM",
    "gp_tanimoto": "discovery.model.baselines:TanimotoGP",
    "rf_morgan": "discovery.model.baselines:RandomForestMorgan",
    "krr_qm": "discovery.model.baselines:KernelRidgeQM",
}


def model_class(name: str) -> type[PropertyModel]:
    """The class registered as `name`."""
    try:
        target = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}") from None
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)


def make_model(name: str, **params: Any) -> PropertyModel:
    """Instantiate the model registered as `name` with constructor `params`."""
    return model_class(name)(**params)


__all__ = [
    "MODELS", "CalibrationRecord", "Capabilities", "FitDiagnostics", "HealthCheck", "HealthThresholds", "LeaveOneOut",
    "ModelDiagnosticsWarning", "Prediction", "PropertyModel", "TargetTransform", "check_training_data", "make_model",
    "model_class",
]
