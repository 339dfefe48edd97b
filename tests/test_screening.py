"""The screening funnel's first stage (`discovery.acquisition.screening`): a real Tanimoto GP on
Morgan fingerprints shortlists a pool before any quantum chemistry."""

from __future__ import annotations

import numpy as np
import pytest

from discovery.acquisition.screening import screen
from discovery.config import ConfigError
from discovery.objective import Direction
from discovery.pool import PoolSettings, ScreeningMethod, ScreeningSettings

# measured: alcohols get better with chain length, amines are poor
MEASURED = ["CO", "CCO", "CCCO", "CCCCO", "CN", "CCN", "CCCN", "CCCCN"]
VALUES = np.array([1.0, 2.0, 3.0, 4.0, 0.0, 0.1, 0.2, 0.3])
POOL = ["CCCCCO", "CCCCCCO", "CCCCCN", "CCCCCCN", "c1ccccc1", "CC(C)(C)C", "ClCCCl", "OCCO", "CCOCC", "CC#N",
        "CCCCCCCO", "CCCCCCCN"]


def test_the_shortlist_keeps_what_beats_the_best_plus_a_seeded_random_share():
    settings = ScreeningSettings(method="fingerprint_gp", shortlist=5, explore_fraction=0.4)
    result = screen(POOL, MEASURED, VALUES, Direction.MAX, settings, seed=3)
    assert result.kept.sum() == 5 and (result.n_top, result.n_explore) == (3, 2)
    ranked = np.argsort(-result.log_probability, kind="stable")
    assert set(ranked[:3]) <= set(np.flatnonzero(result.kept))
    # long alcohols are likelier to beat the best (butanol) than amines of the same length
    assert result.log_probability[POOL.index("CCCCCO")] > result.log_probability[POOL.index("CCCCCN")]
    assert result.log_probability[POOL.index("CCCCCCO")] > result.log_probability[POOL.index("CCCCCCN")]
    again = screen(POOL, MEASURED, VALUES, Direction.MAX, settings, seed=3)
    np.testing.assert_array_equal(result.kept, again.kept)
    assert result.summary() == {"method": "fingerprint_gp", "screened": 12, "kept": 5, "kept_by_rank": 3,
                                "kept_at_random": 2}


def test_minimising_turns_the_ranking_around():
    settings = ScreeningSettings(method="fingerprint_gp", shortlist=4, explore_fraction=0.0)
    best_high = screen(POOL, MEASURED, VALUES, Direction.MAX, settings, seed=0)
    best_low = screen(POOL, MEASURED, VALUES, Direction.MIN, settings, seed=0)
    amine, alcohol = POOL.index("CCCCCCN"), POOL.index("CCCCCCO")
    assert best_high.log_probability[alcohol] > best_high.log_probability[amine]
    assert best_low.log_probability[amine] > best_low.log_probability[alcohol]


def test_small_pools_and_method_none_keep_everything():
    for settings in (ScreeningSettings(), ScreeningSettings(method="fingerprint_gp", shortlist=len(POOL))):
        result = screen(POOL, MEASURED, VALUES, Direction.MAX, settings, seed=0)
        assert result.kept.all() and result.method is ScreeningMethod.NONE and np.isnan(result.log_probability).all()


@pytest.mark.parametrize(("values", "message"), [
    ({"screening": {"shortlist": 0}}, "shortlist must be >= 1"),
    ({"screening": {"explore_fraction": 1.0}}, "explore_fraction must be in [0, 1)"),
    ({"screening": {"method": "docking"}}, "screening.method must be one of"),
])
def test_bad_screening_settings_are_refused_with_the_key(values, message):
    with pytest.raises((ValueError, ConfigError), match=message.replace("[", r"\[").replace(")", r"\)")):
        PoolSettings.from_dict(values)
