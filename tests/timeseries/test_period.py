"""find_period and TimeSeriesDetector(window="auto") (issue 17, item 3)."""

import pickle

import numpy as np
import pytest
from pyod.models.iforest import IForest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skanomaly.timeseries import TimeSeriesDetector, find_period


def _sine(n, period, *, noise=0.1, n_channels=1, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    phases = np.arange(n_channels)
    return np.sin(2 * np.pi * t / period + phases) + noise * rng.normal(size=(n, n_channels))


@pytest.mark.parametrize("period", [3, 7, 24, 50, 100, 200, 300])
def test_finds_the_period_of_a_noisy_sine(period):
    found = find_period(_sine(4000, period, noise=0.2))
    assert abs(found - period) <= max(1, 0.03 * period)


def test_multichannel_series_and_a_spike_train():
    # The series of the 60-second budget: 3 channels, phases 0, 1, 2, period 50.
    assert find_period(_sine(10_000, 50, n_channels=3)) == 50
    rng = np.random.default_rng(0)
    spikes = np.zeros(2000)
    spikes[::37] = 1.0
    assert find_period(spikes + 0.05 * rng.normal(size=2000)) == 37


def test_the_fundamental_beats_its_multiples():
    # Heavy noise lifts multiples of the period to nearly the same autocorrelation.
    for seed in range(5):
        found = find_period(_sine(3000, 24, noise=1.0, seed=seed))
        assert abs(found - 24) <= 1, found


@pytest.mark.parametrize("n", [20, 150, 1000, 5000])
def test_noise_trends_and_constants_have_no_period(n):
    rng = np.random.default_rng(n)
    assert sum(find_period(rng.normal(size=n)) is not None for _ in range(20)) <= 1
    assert find_period(np.cumsum(rng.normal(size=n))) is None  # a random walk
    assert find_period(np.linspace(0, 1, n)) is None
    assert find_period(np.full((n, 2), 3.0)) is None


def test_short_series_and_bounds():
    assert find_period(np.sin(2 * np.pi * np.arange(60) / 20)) == 20  # three periods
    assert find_period(np.sin(2 * np.pi * np.arange(30) / 20)) is None  # under two periods
    assert find_period(np.arange(5.0)) is None
    assert find_period(_sine(3000, 400, noise=0.0)) is None  # beyond max_period=300
    assert find_period(_sine(3000, 100, noise=0.0), max_period=60) is None
    with pytest.raises(ValueError, match="NaN"):
        find_period(np.array([1.0, np.nan] * 20))
    with pytest.raises(ValueError, match="dimensions"):
        find_period(np.zeros((10, 2, 2)))


def test_auto_window_is_the_period():
    train = _sine(600, 25, n_channels=2)
    detector = TimeSeriesDetector(IForest(n_estimators=10, random_state=0), window="auto")
    detector.fit(train)
    assert detector.window == "auto" and detector.window_ == 25
    assert detector.window_scores_.shape == (600 - 25 + 1,)
    assert detector.decision_function(train[:100]).shape == (100,)
    np.testing.assert_array_equal(detector.window_starts(30), [0, 1, 2, 3, 4, 5])
    fixed = TimeSeriesDetector(IForest(n_estimators=10, random_state=0), window=25).fit(train)
    np.testing.assert_array_equal(detector.decision_scores_, fixed.decision_scores_)


def test_auto_window_fallback_and_stride():
    noise = np.random.default_rng(0).normal(size=(500, 1))
    inner = IForest(n_estimators=10, random_state=0)
    assert TimeSeriesDetector(inner, window="auto").fit(noise).window_ == 100
    assert TimeSeriesDetector(inner, window="auto").fit(noise[:60]).window_ == 30  # half
    # Never below the stride (steps between windows would be scored by none).
    sine = _sine(600, 5)
    assert TimeSeriesDetector(inner, window="auto", stride=8).fit(sine).window_ == 8


def test_auto_window_needs_fit_and_rejects_short_series_clearly():
    detector = TimeSeriesDetector(IForest(n_estimators=10, random_state=0), window="auto")
    with pytest.raises(Exception, match="not fitted"):
        detector.window_starts(50)
    detector.fit(_sine(600, 40))
    with pytest.raises(ValueError, match=r"window=40 \(window='auto' chose 40\)"):
        detector.decision_function(np.zeros((10, 1)))
    with pytest.raises(ValueError, match="window"):
        TimeSeriesDetector(window="big").fit(_sine(600, 40))


def test_auto_window_with_clone_pickle_and_grid_search():
    train = _sine(400, 20)
    detector = TimeSeriesDetector(IForest(n_estimators=10, random_state=0), window="auto")
    assert clone(detector).get_params()["window"] == "auto"
    fitted = pickle.loads(pickle.dumps(detector.fit(train)))
    assert fitted.window_ == 20
    np.testing.assert_array_equal(fitted.decision_function(train), detector.decision_function(train))

    def score(estimator, X, y=None):
        return float(np.mean(estimator.decision_function(X)))

    search = GridSearchCV(
        detector, {"window": ["auto", 10]}, scoring=score, cv=[(np.arange(200), np.arange(200, 400))]
    ).fit(train)
    assert [p["window"] for p in search.cv_results_["params"]] == ["auto", 10]
    assert search.best_estimator_.window_ in (20, 10)


def test_pickles_from_before_window_auto_still_score():
    train = _sine(300, 20)
    detector = TimeSeriesDetector(IForest(n_estimators=10, random_state=0), window=16).fit(train)
    state = dict(detector.__getstate__())
    del state["window_"]  # what a pickle written before window="auto" holds
    old = TimeSeriesDetector.__new__(TimeSeriesDetector)
    old.__setstate__(state)
    assert old.window_ == 16
    np.testing.assert_array_equal(old.decision_function(train), detector.decision_function(train))
