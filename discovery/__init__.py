"""discovery: Bayesian active learning for molecules and polymers beyond the measured range."""

__version__ = "0.1.0"
