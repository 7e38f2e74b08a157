"""TimeSeriesDetector with a PyOD detector (flattened windows) and a deep one (3-D windows)."""

import numpy as np
import pytest
import sklearn
from pyod.models.iforest import IForest
from sklearn.base import clone

from skanomaly.metrics import auroc
from skanomaly.timeseries import TimeSeriesDetector, sliding_windows, window_scores_to_points
from skanomaly.utils._testing import ReferenceAutoEncoder


@pytest.fixture
def series():
    """A 3-channel noisy sine; test part has a burst on channel 1 at steps 300..309."""
    rng = np.random.default_rng(0)
    t = np.arange(500)
    X = np.sin(t / 5)[:, None] * np.array([1.0, 0.5, 2.0]) + 0.05 * rng.normal(size=(500, 3))
    X[300:310, 1] += 3.0
    y = np.zeros(500, dtype=int)
    y[300:310] = 1
    return X[:250], X, y


def _deep():
    return ReferenceAutoEncoder(
        hidden_dims=(16,), latent_dim=4, epochs=5, device="cpu", random_state=0
    )


@pytest.mark.parametrize(
    "inner",
    [IForest(n_estimators=30, random_state=0), _deep()],
    ids=["IForest", "ReferenceAutoEncoder"],
)
def test_scores_every_step_and_finds_the_burst(inner, series):
    train, test, y = series
    detector = TimeSeriesDetector(inner, window=16).fit(train)
    scores = detector.decision_function(test)
    assert scores.shape == (len(test),) and scores.dtype == np.float64
    assert detector.decision_scores_.shape == (len(train),)
    assert auroc(y, scores) > 0.9
    labels = detector.predict(test)
    assert labels[300:310].mean() > labels[:250].mean()


def test_inner_detector_gets_the_right_window_shape(series):
    train, _, _ = series
    deep = TimeSeriesDetector(_deep(), window=8).fit(train)
    assert deep.detector_.input_shape_ == (8, 3)  # 3-D windows for our deep detectors
    pyod = TimeSeriesDetector(IForest(n_estimators=5, random_state=0), window=8).fit(train)
    assert pyod.detector_.n_features_in_ == 24  # flattened, time-major windows
    windows = sliding_windows(train, 8).reshape(-1, 24)
    np.testing.assert_allclose(
        pyod.decision_function(train),
        window_scores_to_points(pyod.detector_.decision_function(windows), len(train), 8),
    )


@pytest.mark.parametrize("how", ["max", "mean", "last", "center"])
@pytest.mark.parametrize("stride", [1, 3])
def test_stride_and_how_are_passed_through(series, how, stride):
    train, test, _ = series
    detector = TimeSeriesDetector(
        IForest(n_estimators=5, random_state=0), window=10, stride=stride, how=how
    ).fit(train)
    assert len(detector.window_scores_) == len(detector.window_starts(len(train)))
    expected = window_scores_to_points(detector.window_scores_, len(train), 10, stride, how)
    np.testing.assert_allclose(detector.decision_scores_, expected)
    assert detector.decision_function(test).shape == (len(test),)


def test_univariate_series_and_default_detector():
    rng = np.random.default_rng(1)
    x = np.sin(np.arange(300) / 4) + 0.1 * rng.normal(size=300)
    detector = TimeSeriesDetector(window=12).fit(x)
    assert isinstance(detector.detector_, IForest) and detector.n_features_in_ == 1
    assert detector.decision_function(x).shape == (300,)
    assert detector.decision_function(x[:, None]).shape == (300,)


def test_clear_errors(series):
    train, _, _ = series
    detector = TimeSeriesDetector(IForest(n_estimators=5), window=16)
    with pytest.raises(ValueError, match="shorter than window=16"):
        detector.fit(train[:10])
    bad = train.copy()
    bad[5, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        detector.fit(bad)
    with pytest.raises(ValueError, match="3 dimensions"):
        detector.fit(sliding_windows(train, 16))
    detector.fit(train)
    with pytest.raises(ValueError, match="X has 2 features, but TimeSeriesDetector is expecting 3"):
        detector.decision_function(train[:, :2])
    with pytest.raises(ValueError, match="1-D series .* fitted on 3 channels"):
        detector.decision_function(train[:, 0])
    with pytest.raises(ValueError, match="shorter than window=16"):
        detector.decision_function(train[:15])
    with pytest.raises(ValueError, match="NaN"):
        detector.decision_function(bad)


def test_nested_params_and_determinism(series):
    train, test, _ = series
    detector = TimeSeriesDetector(_deep(), window=8)
    detector.set_params(detector__epochs=2, window=6)
    assert detector.detector.epochs == 2 and detector.window == 6
    first = detector.fit(train).decision_function(test)
    second = clone(detector).fit(train).decision_function(test)
    np.testing.assert_array_equal(first, second)
    assert detector.detector.__dict__.get("module_") is None  # the template stays unfitted


def test_benchmark_evaluate_with_series_metrics():
    from skanomaly.benchmark import evaluate, timeseries_split
    from skanomaly.datasets import make_timeseries_anomalies

    train, test, labels = timeseries_split(
        make_timeseries_anomalies(1200, 2, n_train=600, random_state=0)
    )
    result = evaluate(
        TimeSeriesDetector(IForest(n_estimators=20, random_state=0), window=20),
        train,
        test,
        labels,
        metrics=("vus_pr", "vus_roc", "aupr", "point_adjusted_f1", "affiliation_f1"),
    )
    assert set(result) >= {"vus_pr", "vus_roc", "aupr", "point_adjusted_f1", "affiliation_f1"}
    assert all(0 <= result[m] <= 1 for m in ("vus_pr", "vus_roc", "aupr", "affiliation_f1"))
    assert result["vus_roc"] > 0.6


# ---------------------------------------------------------------------- bounded memory
def _unchunked_scores(detector, X):
    """Window scores of the whole series in one call, mapped to steps: the reference path."""
    windows = sliding_windows(X, detector.window, detector.stride)
    if not isinstance(detector.detector_, ReferenceAutoEncoder):
        windows = windows.reshape(len(windows), -1)
    window_scores = detector.detector_.decision_function(windows)
    return window_scores_to_points(
        window_scores, len(X), detector.window, detector.stride, detector.how
    )


@pytest.mark.parametrize("stride", [1, 3, 4])  # 3 leaves an end-aligned extra window
@pytest.mark.parametrize(
    "inner",
    [IForest(n_estimators=10, random_state=0), _deep()],
    ids=["IForest", "ReferenceAutoEncoder"],
)
def test_chunked_scoring_is_identical_to_one_call(series, inner, stride):
    train, test, _ = series
    detector = TimeSeriesDetector(inner, window=12, stride=stride).fit(train)
    # 0.02 MiB of working memory: chunks of 27 windows of 12 x 3 values, so ~18 chunks.
    with sklearn.config_context(working_memory=0.02):
        chunked = detector.decision_function(test)
    np.testing.assert_array_equal(chunked, _unchunked_scores(detector, test))
    np.testing.assert_array_equal(detector.decision_function(test), chunked)


def test_small_series_are_fitted_on_every_window(series):
    train, test, _ = series
    inner = IForest(n_estimators=10, random_state=0)
    bounded = TimeSeriesDetector(inner, window=12).fit(train)
    unbounded = TimeSeriesDetector(inner, window=12, max_fit_windows=None).fit(train)
    assert bounded.n_fit_windows_ == unbounded.n_fit_windows_ == len(train) - 11
    np.testing.assert_array_equal(bounded.decision_scores_, unbounded.decision_scores_)
    np.testing.assert_array_equal(
        bounded.decision_function(test), unbounded.decision_function(test)
    )


@pytest.mark.parametrize("budget", ["int", "working_memory"])
def test_long_series_fit_on_evenly_spread_windows(series, budget):
    train, _, _ = series  # 250 steps: 239 windows of 12
    inner = IForest(n_estimators=10, random_state=0)
    if budget == "int":
        detector = TimeSeriesDetector(inner, window=12, max_fit_windows=50).fit(train)
    else:  # 0.01 MiB holds 36 windows of 12 x 3 float64 values
        with sklearn.config_context(working_memory=0.01):
            detector = TimeSeriesDetector(inner, window=12).fit(train)
    cap = 50 if budget == "int" else 36
    step = -(-239 // cap)
    assert detector.n_fit_windows_ == len(range(0, 239, step)) <= cap
    assert detector.detector_.n_features_in_ == 36  # flattened windows
    expected_fit = IForest(n_estimators=10, random_state=0).fit(
        sliding_windows(train, 12)[::step].reshape(-1, 36)
    )
    np.testing.assert_array_equal(
        detector.detector_.decision_function(sliding_windows(train, 12).reshape(-1, 36)),
        expected_fit.decision_function(sliding_windows(train, 12).reshape(-1, 36)),
    )
    # Training scores still cover every window and step, as decision_function scores them.
    assert detector.window_scores_.shape == (239,)
    np.testing.assert_array_equal(detector.decision_scores_, detector.decision_function(train))


def test_deep_detector_fit_is_bounded_too(series):
    train, _, _ = series
    detector = TimeSeriesDetector(_deep(), window=12, max_fit_windows=40).fit(train)
    assert detector.n_fit_windows_ <= 40
    assert detector.detector_.decision_scores_.shape == (detector.n_fit_windows_,)
    assert detector.decision_scores_.shape == (len(train),)


def test_scoring_memory_is_bounded_by_the_chunk():
    tracemalloc = pytest.importorskip("tracemalloc")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 4))
    detector = TimeSeriesDetector(
        IForest(n_estimators=5, max_samples=64, random_state=0), window=50, max_fit_windows=500
    ).fit(X[:2000])
    all_windows = (len(X) - 49) * 50 * 4 * 8  # 32 MB if flattened at once
    with sklearn.config_context(working_memory=2):  # chunks of 0.25 MiB
        tracemalloc.start()
        try:
            detector.decision_function(X)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    # The float64 scores of windows and steps (0.3 MB) plus a few chunks and their copies.
    assert peak < all_windows / 8, (peak, all_windows)


# ---------------------------------------------------------------------- pandas in, pandas out
def test_pandas_series_keep_their_index(series):
    pd = pytest.importorskip("pandas")
    train, test, _ = series
    index = pd.date_range("2026-01-01", periods=len(test), freq="min")
    frame = pd.DataFrame(test, index=index)
    detector = TimeSeriesDetector(IForest(n_estimators=10, random_state=0), window=12)
    detector.fit(pd.DataFrame(train))
    arrays = detector.decision_function(test)
    assert isinstance(arrays, np.ndarray)  # arrays in, arrays out
    scores = detector.decision_function(frame)
    assert isinstance(scores, pd.Series) and scores.index.equals(index)
    assert scores.name == "decision_function" and scores.dtype == np.float64
    np.testing.assert_array_equal(scores.to_numpy(), arrays)
    np.testing.assert_array_equal(detector.score_samples(frame).to_numpy(), -arrays)
    labels = detector.predict(frame)
    assert labels.index.equals(index)
    np.testing.assert_array_equal(labels.to_numpy(), detector.predict(test))
    labels, confidence = detector.predict(frame, return_confidence=True)
    assert labels.index.equals(index) and confidence.index.equals(index)
    proba = detector.predict_proba(frame)
    assert isinstance(proba, pd.DataFrame) and proba.index.equals(index)
    np.testing.assert_allclose(proba.to_numpy(), detector.predict_proba(test))
    assert detector.predict_confidence(frame).index.equals(index)
    # A univariate pandas Series too.
    uni = TimeSeriesDetector(IForest(n_estimators=5, random_state=0), window=8)
    uni.fit(pd.Series(train[:, 0]))
    out = uni.decision_function(pd.Series(test[:, 0], index=index))
    assert isinstance(out, pd.Series) and out.index.equals(index)
