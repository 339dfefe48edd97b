"""Property models with one `fit` / `predict` contract (`PropertyModel`): the Bayesian
interaction linear model and the baselines it is measured against.

A model is configured by `conf/model/<name>.yaml` (`ModelConfig`: its class as `_target_` and
its parameters); `make_model(name, **params)` builds one from its config.
"""

from discovery.model.base import (
    Capabilities,
    LeaveOneOut,
    PropertyModel,
    TargetTransform,
    check_noise_sd,
    check_training_data,
    molecule_groups,
)
from discovery.model.config import ModelConfig, available_models, make_model
from discovery.model.diagnostics import CalibrationRecord, FitDiagnostics, HealthCheck, HealthThresholds, ModelDiagnosticsWarning
from discovery.model.prediction import Prediction

__all__ = [
    "CalibrationRecord", "Capabilities", "FitDiagnostics", "HealthCheck", "HealthThresholds", "LeaveOneOut",
    "ModelConfig", "ModelDiagnosticsWarning", "Prediction", "PropertyModel", "TargetTransform", "available_models",
    "check_noise_sd", "check_training_data", "make_model", "molecule_groups",
]
