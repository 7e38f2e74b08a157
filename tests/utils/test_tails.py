"""The tail surprise shared by AnoRand's window score and GenIAS's neighbour score."""

import math

import numpy as np
import pytest
import torch

from skanomaly.utils._tails import fit_tail, tail_surprise


def test_calibration_is_threshold_mean_excess_then_sorted_scores():
    scores = np.array([5.0, 1.0, 3.0, 2.0, 4.0, 10.0, 6.0, 7.0, 8.0, 9.0])
    calibration = fit_tail(scores, share=0.2)
    threshold = np.quantile(scores, 0.8)
    assert calibration.dtype == np.float64
    assert calibration[0] == pytest.approx(threshold)
    assert calibration[1] == pytest.approx(np.mean(scores[scores > threshold] - threshold))
    np.testing.assert_array_equal(calibration[2:], np.sort(scores))


def test_surprise_inside_the_training_scores_is_the_empirical_share():
    scores = np.arange(100, dtype=np.float64)
    calibration = fit_tail(scores)
    x = torch.tensor([0.0, 10.0, 50.5, 89.0], dtype=torch.float64)
    # (n_at_least + 0.5) / (n + 1), by hand.
    expected = [-math.log((n + 0.5) / 101) for n in (100, 90, 49, 11)]
    np.testing.assert_allclose(tail_surprise(x, calibration).numpy(), expected, rtol=1e-6)


def test_rows_beyond_every_training_row_keep_their_order():
    scores = np.random.default_rng(0).normal(size=500)
    calibration = fit_tail(scores)
    x = torch.tensor([1.0, 10.0, 100.0, 1e4], dtype=torch.float64) + scores.max()
    surprise = tail_surprise(x, calibration)
    assert torch.isfinite(surprise).all()
    assert (surprise.diff() > 0).all()
    # Never below the empirical share: the tail only sharpens it.
    assert surprise[0] >= -math.log(0.5 / 501) - 1e-12


def test_equal_training_scores_give_a_unit_tail_scale():
    calibration = fit_tail(np.full(20, 3.0))
    assert calibration[1] == 1.0
    surprise = tail_surprise(torch.tensor([3.0, 4.0, 5.0]), calibration)
    assert torch.isfinite(surprise).all() and (surprise.diff() > 0).all()


def test_training_scores_are_compared_in_the_dtype_of_the_scores():
    calibration = fit_tail(np.linspace(0.0, 1.0, 50))
    for dtype in (torch.float32, torch.float64):
        assert tail_surprise(torch.tensor([0.5], dtype=dtype), calibration).dtype == dtype
