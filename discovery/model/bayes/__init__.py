"""BayesianILR: the interaction linear model with regularised-horseshoe priors, in pieces:
settings, design, the PyMC model, sampler backends, calibration and the estimator."""

from discovery.model.bayes.model import BayesianILR, readable_term
from discovery.model.bayes.settings import (
    CalibrationMethod,
    CalibrationSettings,
    HorseshoePrior,
    Likelihood,
    SamplerMethod,
    SamplerSettings,
)

__all__ = [
    "BayesianILR",
    "CalibrationMethod",
    "CalibrationSettings",
    "HorseshoePrior",
    "Likelihood",
    "SamplerMethod",
    "SamplerSettings",
    "readable_term",
]
